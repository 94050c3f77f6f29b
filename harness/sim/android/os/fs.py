"""In-memory filesystem shared by the shell, sync (push/pull) and stat.

One tree, so what ``adb push`` wrote is what ``ls`` lists and ``adb pull`` returns. Times are
device-clock seconds (never 0: adbutils decides that a path exists from a non-zero mtime).
It survives reboots, as flash does.

Permissions are a small model of a production build as the ``shell`` user sees it: the
system partitions and ``/`` are read-only for everyone, the shell may write only shared
storage and ``/data/local/tmp``, and may not look inside ``/data`` elsewhere. Calls without
``uid`` come from the device itself (package manager, ...) and are not checked.
"""

from __future__ import annotations

import hashlib
import posixpath
import random
import stat as _stat
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .context import SystemContext

S_IFDIR = _stat.S_IFDIR
S_IFREG = _stat.S_IFREG

#: Paths that are the same directory on a phone (``/sdcard`` is a symlink chain to it).
ALIASES = {
    "/sdcard": "/storage/emulated/0",
    "/mnt/sdcard": "/storage/emulated/0",
    "/storage/self/primary": "/storage/emulated/0",
    "/mnt/user/0/primary": "/storage/emulated/0",
}
READ_ONLY = ("/system", "/vendor", "/product", "/system_ext", "/apex", "/odm")
#: The Shell app's data, where bugreportz leaves its zips. The Shell app runs as the shell user
#: (android:sharedUserId="android.uid.shell", frameworks/base/packages/Shell/AndroidManifest.xml),
#: so ``adb shell`` reads and removes them (Mobly's take_bug_report ``rm``s the zip after the pull).
SHELL_APP_FILES = "/data/user_de/0/com.android.shell/files"
SHELL_WRITABLE = ("/storage/emulated/0", "/data/local/tmp", SHELL_APP_FILES)
SHELL_UID = 2000
#: The kernel's id of the current boot (a host compares it across ``reboot``).
BOOT_ID = "/proc/sys/kernel/random/boot_id"
#: Cores of the virtual phone (``nproc``, ``/sys/devices/system/cpu``).
CPU_COUNT = 8
#: the shell user's groups (``id`` on Android 14), for group read permission
SHELL_GROUPS = frozenset(
    {2000, 1004, 1007, 1011, 1015, 1028, 1078, 1079, 3001, 3002, 3003, 3006, 3009, 3011, 3012}
)

_SDCARD_DIRS = (
    "Alarms", "Android", "Audiobooks", "DCIM", "Documents", "Download", "Movies", "Music",
    "Notifications", "Pictures", "Podcasts", "Recordings", "Ringtones",
)
_USERS = {0: "root", 1000: "system", 2000: "shell", 1023: "media_rw", 1015: "sdcard_rw", 1028: "sdcard_r"}


class FsError(Exception):
    """A failed filesystem call; ``reason`` is the strerror text toybox would print."""

    def __init__(self, path: str, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


@dataclass(frozen=True)
class Stat:
    mode: int
    size: int
    mtime: int
    uid: int = 0
    gid: int = 0
    nlink: int = 1

    @property
    def is_dir(self) -> bool:
        return _stat.S_ISDIR(self.mode)

    @property
    def is_file(self) -> bool:
        return _stat.S_ISREG(self.mode)


class _Node:
    __slots__ = ("children", "data", "gid", "mode", "mtime", "uid")

    def __init__(self, mode: int, mtime: int, uid: int = 0, gid: int = 0, data: bytes | None = None) -> None:
        self.mode = mode
        self.mtime = mtime
        self.uid = uid
        self.gid = gid
        self.children: dict[str, _Node] | None = {} if _stat.S_ISDIR(mode) else None
        self.data = bytearray(data or b"") if self.children is None else None

    def stat(self) -> Stat:
        if self.children is not None:
            return Stat(self.mode, 4096 if self.children is not None else 0, self.mtime, self.uid, self.gid,
                        2 + sum(1 for c in self.children.values() if c.children is not None))
        return Stat(self.mode, len(self.data or b""), self.mtime, self.uid, self.gid)


def user_name(uid: int) -> str:
    """The Android user name for a uid (``u0_a123`` for apps)."""
    if uid in _USERS:
        return _USERS[uid]
    if uid >= 10000:
        return f"u0_a{uid - 10000}"
    return str(uid)


def normalize(path: str, cwd: str = "/") -> str:
    """Absolute, normalised, with ``/sdcard``-style aliases resolved."""
    path = posixpath.normpath(posixpath.join(cwd, path)) if path else cwd
    if path.startswith("//"):
        path = "/" + path.lstrip("/")
    for alias, real in ALIASES.items():
        if path == alias or path.startswith(alias + "/"):
            return real + path[len(alias):]
    return path


def _under(path: str, roots: tuple[str, ...]) -> bool:
    return any(path == r or path.startswith(r + "/") for r in roots)


class FileSystem:
    """The device's files (see the module docstring for the permission model)."""

    def __init__(self, device: SystemContext, programs: Iterable[str] = ()) -> None:
        """``programs``: the names the shell can run, each given a ``/system/bin`` entry."""
        self.device = device
        now = self._now()
        self.root = _Node(S_IFDIR | 0o755, now)
        #: files whose contents are computed when read (``/proc/uptime``)
        self.dynamic: dict[str, Callable[[], bytes]] = {}
        self._build_tree(sorted(programs))

    # ------------------------------------------------------------------ layout
    def _now(self) -> int:
        return max(1, self.device.clock.now_ms() // 1000)

    def _build_tree(self, programs: list[str]) -> None:
        dirs = [
            ("/system", 0o755), ("/system/bin", 0o751), ("/system/xbin", 0o751), ("/system/etc", 0o755),
            ("/system/app", 0o755), ("/system/priv-app", 0o755), ("/system/framework", 0o755),
            ("/vendor", 0o755), ("/vendor/bin", 0o751), ("/product", 0o755), ("/system_ext", 0o755),
            ("/apex", 0o755), ("/odm", 0o755), ("/proc", 0o555), ("/dev", 0o755), ("/mnt", 0o755),
            ("/acct", 0o555), ("/config", 0o555), ("/cache", 0o770), ("/etc", 0o755),
            ("/data", 0o771), ("/data/local", 0o751), ("/data/app", 0o771), ("/data/data", 0o771),
            ("/data/system", 0o775), ("/data/misc", 0o1771), ("/data/user", 0o711),
            ("/storage", 0o755), ("/storage/emulated", 0o751), ("/storage/self", 0o755),
        ]
        for path, perm in dirs:
            self._mk(path, S_IFDIR | perm, gid=SHELL_UID if path.endswith(("/bin", "/xbin")) else 0)
        self._mk("/data/local/tmp", S_IFDIR | 0o771, uid=SHELL_UID, gid=SHELL_UID)
        self._mk("/storage/emulated/0", S_IFDIR | 0o2770, uid=0, gid=1015)
        for name in _SDCARD_DIRS:
            self._mk(f"/storage/emulated/0/{name}", S_IFDIR | 0o2770, uid=0, gid=1015)
        for dev in ("null", "zero", "random", "urandom", "tty"):
            self._mk(f"/dev/{dev}", S_IFREG | 0o666)
        elf = b"\x7fELF\x02\x01\x01\x00" + bytes(8)
        for name in programs:
            self._mk(f"/system/bin/{name}", S_IFREG | 0o755, uid=0, gid=2000, data=elf)
        for name in ("uptime", "version", "loadavg", "meminfo", "cpuinfo"):
            self._mk(f"/proc/{name}", S_IFREG | 0o444)
        for path in ("/proc/sys", "/proc/sys/kernel", "/proc/sys/kernel/random"):
            self._mk(path, S_IFDIR | 0o555)
        self._mk(BOOT_ID, S_IFREG | 0o444)
        self.dynamic[BOOT_ID] = self._boot_id
        self._mk("/system/build.prop", S_IFREG | 0o600)
        self._build_sys_cpu()
        for path in ("/proc/sys", "/proc/sys/kernel", "/proc/sys/kernel/random"):
            self._mk(path, S_IFDIR | 0o555)
        self._mk("/proc/sys/kernel/random/boot_id", S_IFREG | 0o444)
        self.dynamic["/proc/uptime"] = self._proc_uptime
        # a UUID the kernel makes once per boot (drivers/char/random.c, proc_do_uuid): how a client
        # tells a new boot from the old one after ``adb reboot``
        self.dynamic["/proc/sys/kernel/random/boot_id"] = lambda: (
            str(uuid.UUID(bytes=hashlib.md5(f"{self.device.serial}/{self.device.boot_count}".encode()).digest()))
            + "\n"
        ).encode()
        self.dynamic["/proc/version"] = lambda: (
            b"Linux version 5.15.137-android14-11-gbf4f9bc41c3b (build-user@build-host) "
            b"(Android (10087095, +pgo, +bolt, +lto, -mlgo, based on r487747c) clang version 17.0.2) "
            b"#1 SMP PREEMPT Mon Jan 1 00:00:00 UTC 2024\n"
        )
        self.dynamic["/proc/loadavg"] = lambda: b"0.00 0.00 0.00 1/1024 1\n"
        self.dynamic["/proc/meminfo"] = lambda: (
            b"MemTotal:        7907000 kB\nMemFree:         1830000 kB\nMemAvailable:    4100000 kB\n"
        )
        self.dynamic["/proc/cpuinfo"] = lambda: b"processor\t: 0\nBogoMIPS\t: 49.15\n\nHardware\t: Tensor\n"
        self.dynamic["/system/build.prop"] = self._build_prop

    def _build_sys_cpu(self) -> None:
        """sysfs CPU topology as the kernel exports it (Documentation/ABI/testing/sysfs-devices-system-cpu):
        ``online``/``possible``/``present`` as cpu ranges, one ``cpuN`` directory per core."""
        for path in ("/sys", "/sys/devices", "/sys/devices/system", "/sys/devices/system/cpu"):
            self._mk(path, S_IFDIR | 0o755)
        span = f"0-{CPU_COUNT - 1}\n".encode()
        for name in ("online", "possible", "present", "offline", "kernel_max"):
            data = {"offline": b"\n", "kernel_max": f"{CPU_COUNT - 1}\n".encode()}.get(name, span)
            self._mk(f"/sys/devices/system/cpu/{name}", S_IFREG | 0o444, data=data)
        for n in range(CPU_COUNT):
            self._mk(f"/sys/devices/system/cpu/cpu{n}", S_IFDIR | 0o755)
            if n:  # cpu0 cannot be taken offline, so it has no ``online`` file
                self._mk(f"/sys/devices/system/cpu/cpu{n}/online", S_IFREG | 0o644, data=b"1\n")

    def _mk(self, path: str, mode: int, uid: int = 0, gid: int = 0, data: bytes | None = None) -> None:
        parent, name = posixpath.split(path)
        pnode = self._lookup(parent)
        assert pnode is not None and pnode.children is not None, path
        pnode.children[name] = _Node(mode, self._now(), uid, gid, data)

    def _boot_id(self) -> bytes:
        """A new random UUID each boot, as the kernel makes one (drivers/char/random.c): what tells
        a host that a reboot really happened. Derived from serial and boot count, so a run is
        repeatable and no boot ever shows the previous one's."""
        bits = random.Random(f"{self.device.serial}/boot/{self.device.boot_count}").getrandbits(128)
        return f"{uuid.UUID(int=bits, version=4)}\n".encode()

    def _proc_uptime(self) -> bytes:
        up = max(0, self.device.uptime_ms()) / 1000.0
        return f"{up:.2f} {up * 7.5:.2f}\n".encode()

    def _build_prop(self) -> bytes:
        props = self.device.props
        lines = [f"{k}={v}" for k, v in props.items() if k.startswith("ro.")]
        return ("\n".join(lines) + "\n").encode()

    # ------------------------------------------------------------------ lookup
    def _lookup(self, path: str) -> _Node | None:
        node = self.root
        if path == "/":
            return node
        for part in path.split("/")[1:]:
            if node.children is None:
                return None
            nxt = node.children.get(part)
            if nxt is None:
                return None
            node = nxt
        return node

    def _parent(self, path: str, uid: int | None) -> tuple[_Node, str]:
        parent, name = posixpath.split(path)
        pnode = self._lookup(parent)
        if pnode is None:
            raise FsError(path, "No such file or directory")
        if pnode.children is None:
            raise FsError(path, "Not a directory")
        return pnode, name

    def _check_write(self, path: str, uid: int | None) -> None:
        if uid is None:
            return
        if path == "/" or _under(path, READ_ONLY) or posixpath.dirname(path) == "/":
            raise FsError(path, "Read-only file system")
        if uid != 0 and not _under(path, SHELL_WRITABLE):
            raise FsError(path, "Permission denied")

    @staticmethod
    def _owner(path: str, uid: int | None) -> int:
        """Who owns a new file: the caller, or for the device's own writes (adbd's sync runs as
        shell) the shell user in shared storage and /data/local/tmp, root elsewhere."""
        if uid is not None:
            return uid
        return SHELL_UID if _under(path, SHELL_WRITABLE) else 0

    def _check_read(self, path: str, uid: int | None, node: _Node) -> None:
        """Read permission as the kernel decides it: owner, group (the shell's groups), other."""
        if uid is None or uid == 0:
            return
        if path.startswith("/data/") and not _under(path, ("/data/local", SHELL_APP_FILES)):
            raise FsError(path, "Permission denied")  # app data is labelled away from the shell
        if node.uid == uid:
            bit = 0o400
        elif node.gid in SHELL_GROUPS:
            bit = 0o040
        else:
            bit = 0o004
        if not node.mode & bit:
            raise FsError(path, "Permission denied")

    # ------------------------------------------------------------------ public API
    def stat(self, path: str) -> Stat | None:
        node = self._lookup(normalize(path))
        return node.stat() if node is not None else None

    def exists(self, path: str) -> bool:
        return self._lookup(normalize(path)) is not None

    def read(self, path: str, uid: int | None = None) -> bytes:
        path = normalize(path)
        node = self._lookup(path)
        if node is None:
            raise FsError(path, "No such file or directory")
        if node.children is not None:
            raise FsError(path, "Is a directory")
        self._check_read(path, uid, node)
        gen = self.dynamic.get(path)
        if gen is not None:
            return gen()
        return bytes(node.data or b"")

    def write(
        self,
        path: str,
        data: bytes,
        mode: int = 0o644,
        mtime: int | None = None,
        append: bool = False,
        uid: int | None = None,
        parents: bool = False,
    ) -> None:
        """Create or replace (or append to) a regular file; ``parents`` makes missing dirs."""
        path = normalize(path)
        if path in ("/dev/null", "/dev/zero"):
            return
        node = self._lookup(path)
        if node is not None and node.children is not None:
            raise FsError(path, "Is a directory")
        if node is None:
            self._check_write(path, uid)
            if parents:
                self.mkdir(posixpath.dirname(path), parents=True, uid=uid)
            pnode, name = self._parent(path, uid)
            owner = self._owner(path, uid)
            node = _Node(S_IFREG | (mode & 0o7777), self._now(), owner, owner)
            pnode.children[name] = node  # type: ignore[index]
            pnode.mtime = self._now()
        else:
            self._check_write(path, uid)
            if mode != 0o644 or uid is None:
                node.mode = S_IFREG | (mode & 0o7777)
        if append:
            node.data += data  # type: ignore[operator]
        else:
            node.data = bytearray(data)
        node.mtime = int(mtime) if mtime else self._now()

    def mkdir(self, path: str, parents: bool = False, uid: int | None = None, mode: int = 0o771) -> None:
        path = normalize(path)
        node = self._lookup(path)
        if node is not None:
            if parents and node.children is not None:
                return
            raise FsError(path, "File exists")
        if parents:
            parent = posixpath.dirname(path)
            if parent != path and self._lookup(parent) is None:
                self.mkdir(parent, parents=True, uid=uid, mode=mode)
        pnode, name = self._parent(path, uid)
        self._check_write(path, uid)
        owner = self._owner(path, uid)
        pnode.children[name] = _Node(S_IFDIR | mode, self._now(), owner, owner)  # type: ignore[index]
        pnode.mtime = self._now()

    def listdir(self, path: str, uid: int | None = None) -> list[tuple[str, Stat]]:
        path = normalize(path)
        node = self._lookup(path)
        if node is None:
            raise FsError(path, "No such file or directory")
        if node.children is None:
            raise FsError(path, "Not a directory")
        self._check_read(path, uid, node)
        return [(name, child.stat()) for name, child in sorted(node.children.items())]

    def remove(self, path: str, recursive: bool = False, uid: int | None = None) -> None:
        """Unlink a file, or a directory (empty, or any with ``recursive``)."""
        path = normalize(path)
        node = self._lookup(path)
        if node is None:
            raise FsError(path, "No such file or directory")
        if path == "/":
            raise FsError(path, "Read-only file system")
        if node.children is not None and node.children and not recursive:
            raise FsError(path, "Directory not empty")
        self._check_write(path, uid)
        if uid is not None and path in SHELL_WRITABLE:
            raise FsError(path, "Permission denied")  # the storage roots themselves stay
        pnode, name = self._parent(path, uid)
        del pnode.children[name]  # type: ignore[union-attr]
        pnode.mtime = self._now()

    def rename(self, src: str, dst: str, uid: int | None = None) -> None:
        src, dst = normalize(src), normalize(dst)
        node = self._lookup(src)
        if node is None:
            raise FsError(src, "No such file or directory")
        self._check_write(src, uid)
        self._check_write(dst, uid)
        if dst == src or dst.startswith(src + "/"):
            raise FsError(dst, "Invalid argument")
        spar, sname = self._parent(src, uid)
        dpar, dname = self._parent(dst, uid)
        target = dpar.children.get(dname)  # type: ignore[union-attr]
        if target is not None and target.children is not None and node.children is None:
            raise FsError(dst, "Is a directory")
        del spar.children[sname]  # type: ignore[union-attr]
        dpar.children[dname] = node  # type: ignore[index]
        spar.mtime = dpar.mtime = self._now()

    def touch(self, path: str, mtime: int | None = None, uid: int | None = None) -> None:
        path = normalize(path)
        node = self._lookup(path)
        if node is None:
            self.write(path, b"", uid=uid)
            node = self._lookup(path)
        else:
            self._check_write(path, uid)
        assert node is not None
        node.mtime = int(mtime) if mtime else self._now()

    def chmod(self, path: str, mode: int, uid: int | None = None) -> None:
        path = normalize(path)
        node = self._lookup(path)
        if node is None:
            raise FsError(path, "No such file or directory")
        self._check_write(path, uid)
        node.mode = (node.mode & ~0o7777) | (mode & 0o7777)
