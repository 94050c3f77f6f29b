"""Property tests: what hosts send (shlex.join, the adb CLI's quoting) reaches programs unchanged."""

from __future__ import annotations

import shlex

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.sim.android.device import VirtualAndroidDevice
from harness.sim.android.shell.shell import run_sync
from harness.sim.android.shell.shparse import ShellSyntaxError, parse, split_words

# Any text an argument can carry over adb (no NUL: argv strings cannot hold it).
ARG = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=30)
ARGV = st.lists(ARG, min_size=1, max_size=6)


def adb_cli_quote(arg: str) -> str:
    """How the adb command line quotes each argument (client/commandline.cpp escape_arg)."""
    return "'" + arg.replace("'", "'\\''") + "'"


def double_quote(arg: str) -> str:
    out = "".join("\\" + c if c in '$`"\\' else c for c in arg)
    return f'"{out}"'


@pytest.fixture(scope="module")
def dev() -> VirtualAndroidDevice:
    return VirtualAndroidDevice(serial="quoting", model="Pixel 8")


@given(ARGV)
def test_shlex_join_round_trips_through_the_lexer(argv: list[str]) -> None:
    assert split_words(shlex.join(argv)) == argv


@given(ARGV)
def test_adb_cli_quoting_round_trips(argv: list[str]) -> None:
    assert split_words(" ".join(adb_cli_quote(a) for a in argv)) == argv


@given(ARGV)
def test_double_quoting_round_trips(argv: list[str]) -> None:
    assert split_words(" ".join(double_quote(a) for a in argv)) == argv


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ARGV)
def test_quoted_argv_reaches_the_program(dev: VirtualAndroidDevice, argv: list[str]) -> None:
    """End to end in-process: printf gets exactly the words the host quoted."""
    rc, out, err = run_sync(dev, "printf '%s\\0' " + shlex.join(argv))
    assert (rc, err) == (0, b"")
    assert out.split(b"\0")[:-1] == [a.encode() for a in argv]


@given(st.text(max_size=60))
def test_parser_raises_only_its_own_syntax_error(src: str) -> None:
    try:
        parse(src)
    except ShellSyntaxError:
        pass


@given(st.text(alphabet=st.sampled_from(list(" a1;&|()<>'\"\\$`{}!#=*\n\t")), max_size=40))
def test_parser_on_shell_metacharacter_soup(src: str) -> None:
    try:
        parse(src)
    except ShellSyntaxError as e:
        assert str(e)


SOUP = [
    *" x;&|()<>'\"\\$?`!=\n",
    "$((",
    "))",
    "${",
    "}",
    "if ",
    "fi ",
    "f() ",
    "<<E\n",
    "E\n",
    "1/0",
    "[ ",
    "case ",
    " in ",
    "esac",
    ";;",
    "${x#",
    "${x//",
    "[z-a]",
]


@settings(max_examples=80, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.sampled_from(SOUP), max_size=12).map("".join))
def test_running_soup_never_raises(dev: VirtualAndroidDevice, src: str) -> None:
    """Whatever a host sends, the shell answers with an exit status, never a Python exception."""
    rc, _, err = run_sync(dev, src)
    assert 0 <= rc <= 255
    assert b"Traceback" not in err


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ARG)
def test_quoted_variable_keeps_its_value(dev: VirtualAndroidDevice, value: str) -> None:
    rc, out, _ = run_sync(dev, "printf '%s' \"$X\"", env={"X": value})
    assert (rc, out) == (0, value.encode())


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(st.sampled_from(list("ab \t\n")), max_size=20))
def test_unquoted_variable_splits_on_ifs_whitespace(dev: VirtualAndroidDevice, value: str) -> None:
    rc, out, _ = run_sync(dev, "printf '%s\\0' $X", env={"X": value})
    fields = [f for f in value.replace("\t", " ").replace("\n", " ").split(" ") if f]
    expected = b"".join(f.encode() + b"\0" for f in fields) if fields else b"\0"
    assert (rc, out) == (0, expected)
