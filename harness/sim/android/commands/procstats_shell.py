"""``dumpsys procstats [--current] [--hours N] [--reset] [PKG]``: process-state time and PSS per app.

Format (AOSP ``ProcessStatsService.dumpInner`` and ``ProcessState.dumpSummary`` via
``DumpUtils``; the "Investigating RAM usage" docs capture): one block per package,
``  * <package> / <uid> / v<versionCode>:``, then right-aligned state labels with the share of
the period and ``(PSS min-avg-max/USS min-avg-max/RSS min-avg-max over N)`` — sizes as
``8.2MB`` / ``45MB``, shares as ``0.52%`` / ``2.1%`` / ``97%``. ``--reset`` prints
``Process stats reset.``; an unknown option ``Unknown argument: X`` and the help.
"""

from __future__ import annotations

from harness.sizes import format_size_kb

from ..os.jobscheduler import format_uid
from ..os.procstats import STATES, PackageStats, Samples
from ..os.timeutils import format_duration
from ..registry import CommandContext, dumpsys_section

_HELP = """Process stats (procstats) dump options:
    [--checkin|-c|--csv] [--csv-screen] [--csv-proc] [--csv-mem]
    [--details] [--full-details] [--current] [--hours N] [--last N]
    [--max N] --active] [--commit] [--reset] [--clear] [--write] [-h]
    [--start-testing] [--stop-testing] [--pretend-screen-on] [<package.name>]
  --current: only dump current state.
  --hours: aggregate over about N last hours.
  --reset: reset the stats, clearing all current data.
  <package.name>: optional name of package to filter output by."""


def percent(fraction: float) -> str:
    """``DumpUtils.printPercent``."""
    value = fraction * 100
    if value < 1:
        return f"{value:.2f}%"
    if value < 10:
        return f"{value:.1f}%"
    return f"{value:.0f}%"


def _mem(samples: Samples) -> str:
    if not samples.count:
        return ""
    parts = ("-".join(format_size_kb(v) for v in samples.triple(i)) for i in range(3))
    return f" ({'/'.join(parts)} over {samples.count})"


@dumpsys_section("procstats")
def dumpsys_procstats(ctx: CommandContext) -> int:
    stats = ctx.device.procstats
    args = ctx.argv[1:]
    header = "CURRENT STATS:"
    package: str | None = None
    i = 0
    while i < len(args):
        arg = args[i]
        if arg in ("-h", "--help"):
            ctx.out(_HELP)
            return 0
        if arg == "--reset":
            stats.reset()
            ctx.out("Process stats reset.")
            return 0
        if arg == "--hours":
            if i + 1 >= len(args) or not args[i + 1].isdigit():
                ctx.out("Error: argument required for --hours")
                ctx.out(_HELP)
                return 0
            header = f"AGGREGATED OVER LAST {int(args[i + 1])} HOURS:"
            i += 2
            continue
        if arg in ("--current", "--details", "--full-details", "-a", "--active"):
            i += 1
            continue
        if arg.startswith("-"):
            ctx.out(f"Unknown argument: {arg}")
            ctx.out(_HELP)
            return 0
        package = arg
        i += 1
    snapshot = stats.snapshot()
    period = max(1.0, ctx.device.now_ms() - stats.start_ms)
    ctx.out(header)
    for pkg in snapshot:
        if package is not None and pkg.package != package:
            continue
        _dump_package(ctx, pkg, period)
    ctx.out()
    ctx.out("Run time Stats:")
    ctx.out(f"  SOff/Norm: {format_duration(int(stats.screen_off_ms))}")
    ctx.out(f"  SOn /Norm: {format_duration(int(stats.screen_on_ms))}")
    ctx.out(f"      TOTAL: {format_duration(int(stats.screen_off_ms + stats.screen_on_ms))}")
    return 0


def _dump_package(ctx: CommandContext, pkg: PackageStats, period: float) -> None:
    ctx.out(f"  * {pkg.package} / {format_uid(pkg.uid)} / v{pkg.version}:")
    ctx.out(f"{'TOTAL:':>17} {percent(pkg.total_ms / period)}{_mem(pkg.overall)}")
    for state in STATES:
        ms = pkg.state_ms[state]
        if ms <= 0:
            continue
        ctx.out(f"{state + ':':>17} {percent(ms / period)}{_mem(pkg.by_state[state])}")
