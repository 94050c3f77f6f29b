"""Command front-ends of the framework (``cmd``, ``dumpsys``, ``logcat``, ``log`` ...)."""
