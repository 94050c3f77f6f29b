"""The device shell's grammar: sequences, and/or lists, quoting, ``$?``, syntax errors."""

from __future__ import annotations

import pytest

from harness.sim.android.device import VirtualAndroidDevice
from harness.sim.android.shell import run_sync


@pytest.fixture(scope="module")
def dev() -> VirtualAndroidDevice:
    return VirtualAndroidDevice(serial="shell-test", model="Pixel 7")


@pytest.mark.parametrize(
    ("line", "code", "out"),
    [
        ("echo hi", 0, "hi\n"),
        ("echo a; false; echo $?", 0, "a\n1\n"),
        ("true && echo yes || echo no", 0, "yes\n"),
        ("false && echo yes || echo no", 0, "no\n"),
        ("false || false", 1, ""),
        ("true; false", 1, ""),
        ("echo 'a b'  \"c  d\" e\\ f", 0, "a b c  d e f\n"),
        ("echo a'b'\"c\"", 0, "abc\n"),
        ("echo \"it's\" 'say \"x\"'", 0, "it's say \"x\"\n"),
        ("echo '$?' \"$?\"", 0, "$? 0\n"),
        ("false; echo X4EXIT:$?", 0, "X4EXIT:1\n"),
        ("echo -n x; echo y", 0, "xy\n"),
        ("echo -e 'a\\tb'", 0, "a\tb\n"),
        ("X=1; echo $X ${X}y", 0, "1 1y\n"),
        ("export X=2; echo \"$X\"", 0, "2\n"),
        ("echo \"$(echo sub)\"", 0, "sub\n"),
        ("exit 3; echo no", 3, ""),
        ("exec echo hi; echo no", 0, "hi\n"),
    ],
)
def test_lines(dev: VirtualAndroidDevice, line: str, code: int, out: str) -> None:
    rc, stdout, stderr = run_sync(dev, line)
    assert (rc, stdout.decode()) == (code, out), stderr


def test_unknown_command(dev: VirtualAndroidDevice) -> None:
    _, out, err = run_sync(dev, "nosuch arg; echo $?")
    assert out == b"127\n"
    assert err == b"/system/bin/sh: nosuch: inaccessible or not found\n"
    assert run_sync(dev, "nosuch")[0] == 127


@pytest.mark.parametrize(
    ("line", "msg"),
    [
        ("echo a;;", "syntax error: unexpected ';;'"),
        ("; echo", "syntax error: unexpected ';'"),
        ("echo a &&", "syntax error: unexpected EOF"),
        ("| cat", "syntax error: unexpected '|'"),
        ("echo 'open", "no closing quote"),
    ],
)
def test_syntax_errors(dev: VirtualAndroidDevice, line: str, msg: str) -> None:
    rc, out, err = run_sync(dev, line)
    assert rc == 1 and out == b""
    assert err.decode() == f"/system/bin/sh: {msg}\n"
