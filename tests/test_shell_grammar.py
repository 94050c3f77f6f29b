"""The device shell's grammar: sequences, and/or lists, quoting, ``$?``, syntax errors."""

from __future__ import annotations

import pytest

from harness.sim.android.device import VirtualAndroidDevice
from harness.sim.android.shell.shell import run_sync


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
        ('echo "it\'s" \'say "x"\'', 0, 'it\'s say "x"\n'),
        ("echo '$?' \"$?\"", 0, "$? 0\n"),
        ("false; echo X4EXIT:$?", 0, "X4EXIT:1\n"),
        ("echo -n x; echo y", 0, "xy\n"),
        ("echo -e 'a\\tb'", 0, "a\tb\n"),
        ("X=1; echo $X ${X}y", 0, "1 1y\n"),
        ('export X=2; echo "$X"', 0, "2\n"),
        ('echo "$(echo sub)"', 0, "sub\n"),
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


@pytest.mark.parametrize(
    ("line", "code", "out", "err"),
    [
        ("echo a > /dev/null; echo $?", 0, "0\n", ""),
        ("nosuch 2>/dev/null; echo $?", 0, "127\n", ""),
        ("nosuch 2>&1 | grep -c 'not found'", 0, "1\n", ""),
        ("echo to-err >&2", 0, "", "to-err\n"),
        ("echo both 2>&1 >/dev/null", 0, "", ""),
        ("cat < /dev/null; echo $?", 0, "0\n", ""),
        ("cat < /nope", 1, "", "/system/bin/sh: can't open /nope: No such file or directory\n"),
        ("echo x > /system/x", 1, "", "/system/bin/sh: can't create /system/x: Read-only file system\n"),
        ("echo x > /data/x", 1, "", "/system/bin/sh: can't create /data/x: Permission denied\n"),
        (
            "echo one > /data/local/tmp/r; echo two >> /data/local/tmp/r; cat /data/local/tmp/r",
            0,
            "one\ntwo\n",
            "",
        ),
        (
            "echo over > /data/local/tmp/r2; echo new > /data/local/tmp/r2; cat < /data/local/tmp/r2",
            0,
            "new\n",
            "",
        ),
    ],
)
def test_redirections(dev: VirtualAndroidDevice, line: str, code: int, out: str, err: str) -> None:
    assert run_sync(dev, line) == (code, out.encode(), err.encode())


@pytest.mark.parametrize(
    ("line", "out"),
    [
        ("echo a b | tr -d ' '", "ab\n"),
        ("printf 'b\\na\\nc\\n' | sort | head -n 2", "a\nb\n"),
        ("false | true; echo $?", "0\n"),
        ("true | false; echo $?", "1\n"),
        ("! false; echo $?", "0\n"),
        ("if true; then echo y; else echo n; fi", "y\n"),
        ("if false; then echo y; elif true; then echo e; fi", "e\n"),
        ("for w in a 'b c'; do echo \"<$w>\"; done", "<a>\n<b c>\n"),
        ("i=0; while [ $i -lt 3 ]; do i=$((i+1)); done; echo $i", "3\n"),
        ("n=0; until [ $n -ge 2 ]; do n=$((n + 1)); done; echo $n", "2\n"),
        ("{ echo a; echo b; } | wc -l", "2\n"),
        ("(exit 7); echo $?", "7\n"),
        ("X=outer; (X=inner); echo $X", "outer\n"),
        ("X='a  b'; echo $X; echo \"$X\"", "a b\na  b\n"),
        ('echo "$(echo one; echo two)"', "one\ntwo\n"),
        ("echo `echo back`", "back\n"),
        ("echo ${NOPE:-fallback} ${NOPE-x} ${HOME:+set}", "fallback x set\n"),
        ("V=abc; echo ${#V}", "3\n"),
        ("echo $((2 + 3 * 4)) $((7 / 2)) $((-7 % 3))", "14 3 -1\n"),
        ("echo a\\;b 'c;d'", "a;b c;d\n"),
        ("echo 'multi\nline'", "multi\nline\n"),
        ("echo a # comment", "a\n"),
        ("cd /data/local/tmp && pwd; pwd", "/data/local/tmp\n/data/local/tmp\n"),
        ("sh -c 'echo $0 $1' zero one", "zero one\n"),
        ("export ANDROID_LOG_TAGS=''; exec echo exec-ok", "exec-ok\n"),
        ('[ "$(echo 1)" = 1 ] && echo eq', "eq\n"),
        ("test -d /sdcard && test -f /system/bin/ls && echo files", "files\n"),
        ("[ abc != abc ] || echo ne", "ne\n"),
    ],
)
def test_compound(dev: VirtualAndroidDevice, line: str, out: str) -> None:
    _, stdout, stderr = run_sync(dev, line)
    assert stdout.decode() == out, stderr


def test_boot_polling_loop(dev: VirtualAndroidDevice) -> None:
    """The loop people paste waits on the device clock and ends once the property is 1."""
    dev.props.set("sys.boot_completed", "")
    dev.clock.schedule_in(3_500, lambda: dev.props.set("sys.boot_completed", "1"))
    before = dev.clock.now_ms()
    rc, out, _ = run_sync(dev, 'while [ "$(getprop sys.boot_completed)" != 1 ]; do sleep 1; done; echo up')
    assert (rc, out) == (0, b"up\n")
    assert dev.clock.now_ms() - before == 4_000


def test_adbutils_shell2_suffix(dev: VirtualAndroidDevice) -> None:
    rc, out, _ = run_sync(dev, "ls /nope; echo X4EXIT:$?")
    assert rc == 0 and out.endswith(b"X4EXIT:1\n")


def test_bad_test_expression(dev: VirtualAndroidDevice) -> None:
    assert run_sync(dev, "[ 1 -lt 2") == (2, b"", b"/system/bin/sh: [: missing ]\n")
    assert run_sync(dev, "[ x -lt 2 ]") == (2, b"", b"/system/bin/sh: [: x: bad number\n")


def test_python_exception_in_a_command_is_one_line(dev: VirtualAndroidDevice, monkeypatch) -> None:
    from harness.sim.android import registry

    def broken(ctx: registry.CommandContext) -> int:
        raise ValueError("it broke")

    monkeypatch.setitem(registry.COMMANDS, "broken-cmd", broken)
    assert run_sync(dev, "broken-cmd; echo $?") == (0, b"1\n", b"broken-cmd: it broke\n")


def test_parse_cache_keeps_results_independent(dev: VirtualAndroidDevice) -> None:
    for value in ("1", "2"):
        assert run_sync(dev, f"X={value}; echo $X")[1] == f"{value}\n".encode()
    assert run_sync(dev, "echo $X")[1] == b"\n"  # each run is a fresh sh


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("cat <<EOF\nhello $HOME\nline2 \\$x\nEOF\necho after", (0, b"hello /\nline2 $x\nafter\n", b"")),
        ("cat <<'EOF'\n$HOME `x`\nEOF", (0, b"$HOME `x`\n", b"")),
        ("cat <<-END\n\t\tindented\n\tEND", (0, b"indented\n", b"")),
        ("cat << EOF | wc -l\na\nb\nEOF", (0, b"2\n", b"")),
        ("cat <<EOF\nno end", (1, b"", b"/system/bin/sh: here document 'EOF' unclosed\n")),
    ],
)
def test_here_documents(dev: VirtualAndroidDevice, line: str, expected: tuple) -> None:
    assert run_sync(dev, line) == expected


@pytest.mark.parametrize(
    ("line", "code", "out"),
    [
        ("for i in 1 2 3 4; do [ $i = 3 ] && break; echo $i; done", 0, "1\n2\n"),
        ("for i in 1 2 3; do [ $i = 2 ] && continue; echo $i; done", 0, "1\n3\n"),
        ("for a in x y; do for b in 1 2; do [ $b = 2 ] && break 2; echo $a$b; done; done", 0, "x1\n"),
        ("n=0; while true; do n=$((n+1)); [ $n -ge 3 ] && break; done; echo $n", 0, "3\n"),
        ("set -e; echo a; false; echo b", 1, "a\n"),
        ("set -e; if false; then :; fi; false || echo handled; ! false; echo end", 0, "handled\nend\n"),
        ("set -- x y z; echo $# $2 $@", 0, "3 y x y z\n"),
        ("sleep 1 & wait; echo waited", 0, "waited\n"),
        ("command -v ls getprop nope; echo $?", 0, "/system/bin/ls\n/system/bin/getprop\n1\n"),
    ],
)
def test_loop_control_and_set(dev: VirtualAndroidDevice, line: str, code: int, out: str) -> None:
    rc, stdout, stderr = run_sync(dev, line)
    assert (rc, stdout.decode()) == (code, out), stderr


def test_boot_wait_with_a_timeout(dev: VirtualAndroidDevice) -> None:
    """The bounded form of the boot loop: give up after N tries."""
    dev.props.set("sys.boot_completed", "")
    dev.clock.schedule_in(2_500, lambda: dev.props.set("sys.boot_completed", "1"))
    line = (
        'for i in $(seq 1 30); do [ "$(getprop sys.boot_completed)" = 1 ] && break; sleep 1; done; '
        "echo tries=$i"
    )
    assert run_sync(dev, line) == (0, b"tries=4\n", b"")


def test_xtrace(dev: VirtualAndroidDevice) -> None:
    assert run_sync(dev, "set -x; echo 'a b'") == (0, b"a b\n", b"+ echo 'a b'\n")


@pytest.mark.parametrize(
    ("line", "code", "out"),
    [
        ('greet() { echo "hi $1"; }; greet you; greet me', 0, "hi you\nhi me\n"),
        ("f() { return 3; echo no; }; f; echo $?", 0, "3\n"),
        ("X=g; f() { local X=l; echo $X; }; f; echo $X", 0, "l\ng\n"),
        ('boot_done() { [ "$(getprop sys.boot_completed)" = 1 ]; }; boot_done && echo up', 0, "up\n"),
        ("f()\n{\n  echo multi\n}\nf", 0, "multi\n"),
    ],
)
def test_functions(dev: VirtualAndroidDevice, line: str, code: int, out: str) -> None:
    rc, stdout, stderr = run_sync(dev, line)
    assert (rc, stdout.decode()) == (code, out), stderr


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("cat <<< 'here string'", (0, b"here string\n", b"")),
        (
            "nosuch &> /data/local/tmp/both; cat /data/local/tmp/both",
            (0, b"/system/bin/sh: nosuch: inaccessible or not found\n", b""),
        ),
        ("echo $'a\\tb\\x41\\n'end", (0, b"a\tbA\nend\n", b"")),
        ("echo $'it\\'s'", (0, b"it's\n", b"")),
        ("echo $'open", (1, b"", b"/system/bin/sh: no closing quote\n")),
    ],
)
def test_mksh_extensions(dev: VirtualAndroidDevice, line: str, expected: tuple) -> None:
    assert run_sync(dev, line) == expected


def test_source(dev: VirtualAndroidDevice) -> None:
    dev.fs.write("/data/local/tmp/env.sh", b'GREETING=hello\nsay() { echo "$GREETING $1"; }\n')
    assert run_sync(dev, ". /data/local/tmp/env.sh; say world") == (0, b"hello world\n", b"")
    rc, _, err = run_sync(dev, "source /nope")
    assert (rc, err) == (1, b"/system/bin/sh: source: /nope: No such file or directory\n")


def test_exec_redirections_last(dev: VirtualAndroidDevice) -> None:
    assert run_sync(dev, "exec 2>&1; nosuch; echo $?") == (
        0,
        b"/system/bin/sh: nosuch: inaccessible or not found\n127\n",
        b"",
    )
    line = "exec > /data/local/tmp/exec.log; echo logged; cat /data/local/tmp/exec.log >&2"
    assert run_sync(dev, line) == (
        0,
        b"",
        b"logged\n",
    )


@pytest.mark.parametrize(
    ("line", "out"),
    [
        ("x=a/b/c.txt; echo ${x#*/} ${x##*/} ${x%/*} ${x%%/*} ${x%.txt}", "b/c.txt c.txt a/b a a/b/c\n"),
        ("x=aXbXc; echo ${x/X/-} ${x//X/-} ${#x}", "a-bXc a-b-c 5\n"),
        ('v="key: value"; echo "${v%%:*}"', "key\n"),
        ("x=abc; echo ${x/[z-a]/y}", "abc\n"),
        ("case abc in a*) echo A;; *) echo other;; esac", "A\n"),
        ("case zz in a|b) echo ab;; (z*) echo z; echo z2;; esac", "z\nz2\n"),
        (
            "for f in x.apk y.txt; do case $f in *.apk) echo apk $f;; *) echo no $f;; esac; done",
            "apk x.apk\nno y.txt\n",
        ),
        ("case x in esac; echo $?", "0\n"),
    ],
)
def test_case_and_parameter_patterns(dev: VirtualAndroidDevice, line: str, out: str) -> None:
    rc, stdout, stderr = run_sync(dev, line)
    assert (rc, stdout.decode()) == (0, out), stderr


def test_arithmetic_is_32_bit_like_mksh(dev: VirtualAndroidDevice) -> None:
    assert run_sync(dev, "echo $((2147483647 + 1)) $((-7 / 2)) $((1 && 0)) $((3 > 2))") == (
        0,
        b"-2147483648 -3 0 1\n",
        b"",
    )
    assert run_sync(dev, "echo $((1 / 0))")[0] == 1
    assert run_sync(dev, "x=x; echo $((x + 1))")[0] == 1  # a self-referencing variable is an error


def test_last_pipeline_stage_runs_in_this_shell(dev: VirtualAndroidDevice) -> None:
    """mksh runs the last stage of a pipeline in the current shell (ksh semantics)."""
    assert run_sync(dev, "echo hi | read x; echo $x") == (0, b"hi\n", b"")
    line = "n=0; getprop | while read l; do n=$((n+1)); done; [ $n -gt 20 ] && echo counted"
    assert run_sync(dev, line) == (0, b"counted\n", b"")
    assert run_sync(dev, "echo a | exit 4; echo never") == (4, b"", b"")


def test_dynamic_variables(dev: VirtualAndroidDevice) -> None:
    rc, out, _ = run_sync(dev, "echo $RANDOM $RANDOM; echo $PPID; s=$SECONDS; sleep 3; echo $((SECONDS - s))")
    first, ppid, elapsed = out.decode().splitlines()
    a, b = first.split()
    assert rc == 0 and 0 <= int(a) < 32768 and 0 <= int(b) < 32768
    assert int(ppid) == dev.procs.by_name("adbd")[0].pid
    assert elapsed == "3"


def test_quoted_at_keeps_arguments_apart(dev: VirtualAndroidDevice) -> None:
    assert run_sync(dev, 'f() { for a in "$@"; do echo "<$a>"; done; }; f \'a b\' c') == (
        0,
        b"<a b>\n<c>\n",
        b"",
    )
    assert run_sync(dev, 'f() { printf "%s|" "$@"; echo; }; f; f x "y z"') == (0, b"|\nx|y z|\n", b"")
    assert run_sync(dev, 'set -- 1 2; echo "pre$@post"') == (0, b"pre1 2post\n", b"")
