"""A virtual Android device: an adbd that the real ``adb`` server connects to, with an OS model."""
