"""The toybox programs of the virtual device: output formats, options, exit codes, error texts."""

from __future__ import annotations

import pytest

from harness.sim.android.device import VirtualAndroidDevice
from harness.sim.android.shell.shell import run_sync


@pytest.fixture(scope="module")
def dev() -> VirtualAndroidDevice:
    d = VirtualAndroidDevice(serial="builtins", model="Pixel 8")
    d.fs.write("/data/local/tmp/log.txt", b"alpha one\nBeta two\ngamma three\nalpha four\n")
    return d


def sh(dev: VirtualAndroidDevice, line: str) -> tuple[int, str, str]:
    rc, out, err = run_sync(dev, line)
    return rc, out.decode(), err.decode()


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("echo -n a; echo b", (0, "ab\n", "")),
        ("echo -e 'x\\ty\\x41\\0101'", (0, "x\tyAA\n", "")),
        ("echo -ne 'no newline\\c'; echo", (0, "no newline\n", "")),
        ("echo -- -n", (0, "-- -n\n", "")),
        ("echo '-x'", (0, "-x\n", "")),
        ("true; echo $?; false; echo $?", (0, "0\n1\n", "")),
        ("printf '%s=%d\\n' a 1 b 2", (0, "a=1\nb=2\n", "")),
    ],
)
def test_echo_printf(dev: VirtualAndroidDevice, line: str, expected: tuple) -> None:
    assert sh(dev, line) == expected


F = "/data/local/tmp/log.txt"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (f"grep alpha {F}", (0, "alpha one\nalpha four\n", "")),
        (f"grep -i beta {F}", (0, "Beta two\n", "")),
        (f"grep -v alpha {F}", (0, "Beta two\ngamma three\n", "")),
        (f"grep -c alpha {F}", (0, "2\n", "")),
        (f"grep -q gamma {F}; echo $?", (0, "0\n", "")),
        (f"grep -o 'a[a-z]*' {F} | head -n 2", (0, "alpha\na\n", "")),
        (f"grep -E 'one|two' {F}", (0, "alpha one\nBeta two\n", "")),
        (f"grep 'one\\|two' {F}", (0, "alpha one\nBeta two\n", "")),
        (f"grep -F 'a.' {F}; echo $?", (0, "1\n", "")),
        (f"grep -n three {F}", (0, "3:gamma three\n", "")),
        (f"grep nothing {F}", (1, "", "")),
        (
            f"grep alpha {F} /nope",
            (2, f"{F}:alpha one\n{F}:alpha four\n", "grep: /nope: No such file or directory\n"),
        ),
        (f"grep -c alpha {F} {F}", (0, f"{F}:2\n{F}:2\n", "")),
        (f"grep -l alpha {F}", (0, f"{F}\n", "")),
        (f"grep -w alph {F}", (1, "", "")),
        (f"grep -x 'Beta two' {F}", (0, "Beta two\n", "")),
        (f"grep '^[[:upper:]]' {F}", (0, "Beta two\n", "")),
        (f"cat {F} | grep -e one -e three", (0, "alpha one\ngamma three\n", "")),
        (f"head -n 1 {F}", (0, "alpha one\n", "")),
        (f"head -2 {F}", (0, "alpha one\nBeta two\n", "")),
        (f"tail -n 1 {F}", (0, "alpha four\n", "")),
        (f"tail -n +4 {F}", (0, "alpha four\n", "")),
        (f"wc -l {F}", (0, f"4 {F}\n", "")),
        (f"cat {F} | wc -l", (0, "4\n", "")),
        ("echo 'a\r' | tr -d '\\r'", (0, "a\n", "")),
        ("echo hello | tr a-z A-Z", (0, "HELLO\n", "")),
        ("echo aabbcc | tr -s abc", (0, "abc\n", "")),
        ("printf '3\\n1\\n2\\n2\\n' | sort -n | uniq", (0, "1\n2\n3\n", "")),
        ("printf 'b\\na\\n' | sort -r", (0, "b\na\n", "")),
    ],
)
def test_text_filters(dev: VirtualAndroidDevice, line: str, expected: tuple) -> None:
    assert sh(dev, line) == expected


def test_date_formats(dev: VirtualAndroidDevice) -> None:
    now_s = dev.clock.now_ms() // 1000
    rc, out, _ = sh(dev, "date +%s")
    assert (rc, out) == (0, f"{now_s}\n")
    _, out, _ = sh(dev, "date")
    import time

    tm = time.gmtime(now_s)
    assert out == time.strftime("%a %b ", tm) + f"{tm.tm_mday:2d}" + time.strftime(" %H:%M:%S UTC %Y\n", tm)
    assert sh(dev, "date '+%Y-%m-%d %H:%M'")[1] == time.strftime("%Y-%m-%d %H:%M\n", tm)
    assert sh(dev, "date 010100002030")[0] == 1


def test_date_follows_the_device_clock() -> None:
    d = VirtualAndroidDevice(serial="clock")
    assert sh(d, "date")[1] == "Mon Jan  5 09:00:00 UTC 2026\n"
    d.clock.advance(86_400_000 * 5 + 3_600_000)
    assert sh(d, "date")[1] == "Sat Jan 10 10:00:00 UTC 2026\n"


def test_sleep_on_the_manual_clock(dev: VirtualAndroidDevice) -> None:
    before = dev.clock.now_ms()
    assert sh(dev, "sleep 2; sleep 0.5") == (0, "", "")
    assert dev.clock.now_ms() - before == 2_500
    assert sh(dev, "sleep 1m; echo $?")[1] == "0\n"
    assert sh(dev, "sleep abc") == (1, "", "sleep: bad duration 'abc'\n")
    assert sh(dev, "sleep")[0] == 1


def test_identity_programs(dev: VirtualAndroidDevice) -> None:
    rc, out, _ = sh(dev, "id")
    assert rc == 0 and out.startswith("uid=2000(shell) gid=2000(shell) groups=2000(shell),1004(input),")
    assert sh(dev, "id -u; id -un; whoami") == (0, "2000\nshell\nshell\n", "")


def test_which(dev: VirtualAndroidDevice) -> None:
    assert sh(dev, "which ls getprop") == (0, "/system/bin/ls\n/system/bin/getprop\n", "")
    assert sh(dev, "which nope-nothing") == (1, "", "")
    assert sh(dev, "which screenrecord-not-here; echo $?")[1] == "1\n"


def test_uptime_and_proc(dev: VirtualAndroidDevice) -> None:
    rc, out, _ = sh(dev, "uptime")
    assert rc == 0 and " up " in out and "load average: 0.00, 0.00, 0.00" in out
    rc, out, _ = sh(dev, "cat /proc/uptime")
    assert rc == 0 and len(out.split()) == 2


def test_unknown_options(dev: VirtualAndroidDevice) -> None:
    assert sh(dev, "ls -Q /") == (1, "", "ls: Unknown option 'Q' (see \"ls --help\")\n")
    assert sh(dev, "rm") == (1, "", "rm: Needs 1 argument\n")
    assert sh(dev, "rm -f; echo $?") == (0, "0\n", "")


def test_grep_context(dev: VirtualAndroidDevice) -> None:
    dev.fs.write("/data/local/tmp/ctx.txt", b"".join(f"line{i}\n".encode() for i in range(1, 11)))
    f = "/data/local/tmp/ctx.txt"
    assert sh(dev, f"grep -A 1 line3 {f}") == (0, "line3\nline4\n", "")
    assert sh(dev, f"grep -B 1 -n line3 {f}") == (0, "2-line2\n3:line3\n", "")
    assert sh(dev, f"grep -C 1 -e line3 -e line8 {f}") == (
        0,
        "line2\nline3\nline4\n--\nline7\nline8\nline9\n",
        "",
    )
    assert sh(dev, f"grep -m 2 line {f}") == (0, "line1\nline2\n", "")
    assert sh(dev, f"grep -A x line {f}")[0] == 2


def test_unsupported_flags_are_refused_not_ignored(dev: VirtualAndroidDevice) -> None:
    assert sh(dev, "grep -r x /sdcard") == (2, "", "grep: Unknown option 'r' (see \"grep --help\")\n")
    assert sh(dev, "tail -f /data/local/tmp/log.txt") == (
        1,
        "",
        "tail: Unknown option 'f' (see \"tail --help\")\n",
    )


def test_cp_preserves_times_with_p(dev: VirtualAndroidDevice) -> None:
    dev.fs.write("/data/local/tmp/old", b"x", mtime=1_600_000_000)
    sh(dev, "cp -p /data/local/tmp/old /data/local/tmp/kept; cp /data/local/tmp/old /data/local/tmp/new")
    assert dev.fs.stat("/data/local/tmp/kept").mtime == 1_600_000_000
    assert dev.fs.stat("/data/local/tmp/new").mtime == dev.clock.now_ms() // 1000
