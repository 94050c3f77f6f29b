"""The virtual iPhone: an xcrun (simctl, lldb) stand-in and a WebDriverAgent-compatible server."""
