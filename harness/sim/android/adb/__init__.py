"""The adb transport: the daemon, its stream services and the sync protocol."""
