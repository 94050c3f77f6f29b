"""Virtual devices reached only through the real protocols (adb, xcrun, WebDriverAgent).

The harness core never imports this package except in the launcher that starts an embedded
virtual device when nothing real is attached.
"""
