"""``dumpsys meminfo [-a] [-s] [--package] [PKG|PID]``: the system's and one app's memory, as AMS prints it.

Formats (AOSP ``ActivityManagerService.dumpApplicationMemoryUsage`` / ``ActivityThread
.dumpMemInfoTable``, checked against captures — perfetto's memory guide, a 1 GB low-RAM phone's
``Tuning: 128 (large 256), oom   184,320K, restore limit    61,440K (low-ram)``):

- sizes are ``String.format("%,9dK")`` (``stringifyKBSize``); a process is
  ``<size>: <name> (pid N)``, with `` / activities`` when it has a visible activity;
- the per-app table uses ``%13s %8s …`` columns (Pss Total, Private Dirty, Private Clean,
  SwapPss Dirty, Rss Total, Heap Size/Alloc/Free), then ``App Summary`` in ``%21s %8d`` rows.

The numbers come from the memory model (``os/memory.py``). Only the PSS sections are printed
(Android 13+ adds ``Total RSS by …`` sections and DMA-BUF lines; scripts read the PSS ones).
"""

from __future__ import annotations

from ..os.memory import ProcMemory
from ..registry import CommandContext, dumpsys_section

_HELP = """meminfo dump options: [-a] [-d] [-c] [-s] [--oom] [process]
  -a: include all available information for each process.
  -d: include dalvik details.
  -c: dump in a compact machine-parseable representation.
  -s: dump only summary of application memory usage.
  -S: dump also SwapPss.
  --oom: only show processes organized by oom adj.
  --local: only collect details locally, don't call process.
  --package: interpret process arg as package, dumping all
             processes that have loaded that package.
  --checkin: dump data for a checkin
  --proto: dump data to proto
If [process] is specified it can be the name or
pid of a specific process to dump."""

_OOM_ORDER = ("Native", "System", "Persistent", "Foreground", "Visible", "Perceptible",
              "Perceptible Low", "A Services", "B Services", "Cached")


def kb(value: float) -> str:
    """AMS ``stringifyKBSize``: ``%,9dK``."""
    return f"{int(value):>9,}K"


def _label(m: ProcMemory, activities: bool) -> str:
    name = "system" if m.name == "system_server" else m.name
    return f"{name} (pid {m.pid}{' / activities' if activities else ''})"


@dumpsys_section("meminfo")
def dumpsys_meminfo(ctx: CommandContext) -> int:
    device = ctx.device
    args = ctx.argv[1:]
    summary_only = False
    target: str | None = None
    for arg in args:
        if arg in ("-h", "--help"):
            ctx.out(_HELP)
            return 0
        if arg in ("-a", "-d", "-S", "--local", "--package", "--oom"):
            continue
        if arg == "-s":
            summary_only = True
            continue
        if arg.startswith("-"):
            ctx.out(f"Unknown argument: {arg}; use -h for help")
            return 0
        target = arg
        break
    memory = device.memory
    uptime = device.uptime_ms()
    ctx.out("Applications Memory Usage (in Kilobytes):")
    ctx.out(f"Uptime: {uptime} Realtime: {uptime}")
    if target is not None:
        return _dump_process(ctx, target, summary_only)
    procs = memory.processes()
    top = device.activity.top()
    top_pid = top[3] if top is not None else -1
    ctx.out()
    ctx.out("Total PSS by process:")
    for m in procs:
        ctx.out(f"  {kb(m.pss_kb)}: {_label(m, m.pid == top_pid)}")
    ctx.out()
    ctx.out("Total PSS by OOM adjustment:")
    for category in _OOM_ORDER:
        members = [m for m in procs if m.category == category]
        if not members:
            continue
        ctx.out(f"  {kb(sum(m.pss_kb for m in members))}: {category}")
        for m in members:
            ctx.out(f"      {kb(m.pss_kb)}: {_label(m, m.pid == top_pid)}")
    ctx.out()
    ctx.out("Total PSS by category:")
    apps = [m for m in procs if m.java_heap_kb]
    others = [m for m in procs if not m.java_heap_kb]
    categories = {
        "Native": sum(m.native_heap_kb for m in apps) + sum(int(m.pss_kb * 0.45) for m in others),
        "Dalvik": sum(m.java_heap_kb for m in apps) + sum(int(m.pss_kb * 0.2) for m in others),
        ".so mmap": sum(int(m.code_kb * 0.5) for m in apps) + sum(int(m.pss_kb * 0.15) for m in procs),
        ".art mmap": sum(int(m.code_kb * 0.3) for m in apps),
        ".dex mmap": sum(int(m.code_kb * 0.2) for m in apps),
        "Stack": sum(m.stack_kb for m in apps),
        "Gfx dev": sum(m.graphics_kb for m in apps),
        "Unknown": sum(m.other_kb for m in apps),
    }
    for name, value in sorted(categories.items(), key=lambda kv: -kv[1]):
        ctx.out(f"  {kb(value)}: {name}")
    total = memory.total_kb
    free = max(0, memory.available_kb())
    cached_pss = sum(m.pss_kb for m in procs if m.category == "Cached")
    cached_kernel = int(memory.kernel_kb * 0.45)
    used_pss = sum(m.pss_kb for m in procs) - cached_pss
    kernel_used = memory.kernel_kb - cached_kernel
    lost = max(0, total - (free + cached_pss + cached_kernel) - (used_pss + kernel_used))
    ctx.out()
    ctx.out(f"Total RAM: {kb(total)} (status {memory.status()})")
    ctx.out(f" Free RAM: {kb(free + cached_pss + cached_kernel)} ({kb(cached_pss)} cached pss + "
            f"{kb(cached_kernel)} cached kernel + {kb(free)} free)")
    ctx.out(f" Used RAM: {kb(used_pss + kernel_used)} ({kb(used_pss)} used pss + {kb(kernel_used)} kernel)")
    ctx.out(f" Lost RAM: {kb(lost)}")
    heap = "128 (large 256)" if memory.low_ram else "256 (large 512)"
    oom = memory.minfree[-1][1]
    flag = " (low-ram)" if memory.low_ram else " (high-end-gfx)"
    ctx.out(f"   Tuning: {heap}, oom {kb(oom)}, restore limit {kb(oom // 3)}{flag}")
    return 0


def _dump_process(ctx: CommandContext, target: str, summary_only: bool) -> int:
    device = ctx.device
    memory = device.memory
    runtimes = {r.package: r for r in device.activity.running()}
    runtime = runtimes.get(target)
    if runtime is None and target.isdigit():
        runtime = next((r for r in runtimes.values() if r.pid == int(target)), None)
    if runtime is None:
        ctx.out(f"No process found for: {target}")
        return 0
    proc = device.procs.get(runtime.pid)
    if proc is None:
        ctx.out(f"No process found for: {target}")
        return 0
    m = memory.process(proc, runtime)
    ctx.out()
    ctx.out(f"** MEMINFO in pid {m.pid} [{runtime.package}] **")
    if not summary_only:
        _table(ctx, m)
    _summary(ctx, m)
    _objects(ctx, runtime)
    return 0


def _row(*cells: object) -> str:
    label, *values = cells
    return f"{label!s:>13}" + "".join(f" {v!s:>8}" for v in values)


def _table(ctx: CommandContext, m: ProcMemory) -> None:
    ctx.out(_row("", "Pss", "Private", "Private", "SwapPss", "Rss", "Heap", "Heap", "Heap"))
    ctx.out(_row("", "Total", "Dirty", "Clean", "Dirty", "Total", "Size", "Alloc", "Free"))
    ctx.out(_row("", *(["------"] * 8)))
    pss = m.pss_kb

    def part(share: float) -> int:
        return int(pss * share)

    native, java = m.native_heap_kb, m.java_heap_kb
    rows = [
        ("Dalvik Other", part(0.04)), ("Stack", m.stack_kb), ("Ashmem", part(0.002)),
        ("Other dev", part(0.001)), (".so mmap", part(0.12)), (".jar mmap", part(0.01)),
        (".apk mmap", part(0.02)), (".dex mmap", part(0.05)), (".oat mmap", part(0.01)),
        (".art mmap", part(0.04)), ("Other mmap", part(0.01)),
    ]
    listed = native + java + sum(v for _, v in rows)
    rows.append(("Unknown", max(0, pss - listed)))
    swap = m.swap_pss_kb
    rss_extra = m.rss_kb - pss

    def line(label: str, value: int, heap: tuple[int, int, int] | None = None) -> str:
        share = value / pss if pss else 0.0
        cells = [value, int(value * 0.92), int(value * 0.03), int(swap * share),
                 value + int(rss_extra * share)]
        return _row(label, *cells, *(heap or ()))

    native_heap = (int(native * 1.5) + 4096, native + 2048, int(native * 0.5) + 2048)
    java_size = max(java * 2, 4096)
    ctx.out(line("Native Heap", native, native_heap))
    ctx.out(line("Dalvik Heap", java, (java_size, java, java_size - java)))
    for label, value in rows:
        ctx.out(line(label, value))
    heap_total = tuple(a + b for a, b in zip(native_heap, (java_size, java, java_size - java), strict=True))
    ctx.out(_row("TOTAL", pss, m.private_dirty_kb, m.private_clean_kb, swap, m.rss_kb, *heap_total))
    ctx.out()


def _summary(ctx: CommandContext, m: ProcMemory) -> None:
    def two(label: str, a: object, b: object = "") -> str:
        return f"{label:>21} {a!s:>8} {'':>21} {b!s:>8}".rstrip()

    ctx.out(" App Summary")
    ctx.out(two("", "Pss(KB)", "Rss(KB)"))
    ctx.out(two("", "------", "------"))
    private_other = max(0, m.other_kb - int(m.pss_kb * 0.05))
    system = m.pss_kb - (m.java_heap_kb + m.native_heap_kb + m.code_kb + m.stack_kb + m.graphics_kb
                         + private_other)
    extra = m.rss_kb - m.pss_kb
    ctx.out(two("Java Heap:", m.java_heap_kb, m.java_heap_kb + int(extra * 0.2)))
    ctx.out(two("Native Heap:", m.native_heap_kb, m.native_heap_kb + int(extra * 0.1)))
    ctx.out(two("Code:", m.code_kb, m.code_kb + int(extra * 0.6)))
    ctx.out(two("Stack:", m.stack_kb, m.stack_kb))
    ctx.out(two("Graphics:", m.graphics_kb, m.graphics_kb))
    ctx.out(two("Private Other:", private_other))
    ctx.out(two("System:", max(0, system)))
    ctx.out(two("Unknown:", "", int(extra * 0.1)))
    ctx.out()
    ctx.out(f"{'TOTAL PSS:':>21} {m.pss_kb:>8} {'TOTAL RSS:':>21} {m.rss_kb:>8} "
            f"{'TOTAL SWAP PSS:':>21} {m.swap_pss_kb:>8}")
    ctx.out()


def _objects(ctx: CommandContext, runtime: object) -> None:
    ui = bool(getattr(runtime, "activity_alive", False))

    def pair(a: str, x: int, b: str, y: int) -> str:
        return f"{a:>21} {x:>8} {b:>21} {y:>8}"

    ctx.out(" Objects")
    ctx.out(pair("Views:", 42 if ui else 0, "ViewRootImpl:", 1 if ui else 0))
    ctx.out(pair("AppContexts:", 4 if ui else 2, "Activities:", 1 if ui else 0))
    ctx.out(pair("Assets:", 8, "AssetManagers:", 0))
    ctx.out(pair("Local Binders:", 14, "Proxy Binders:", 37))
    ctx.out(pair("Parcel memory:", 6, "Parcel count:", 24))
    ctx.out(pair("Death Recipients:", 1, "OpenSSL Sockets:", 0))
    ctx.out(f"{'WebViews:':>21} {0:>8}")
    ctx.out()
    ctx.out(" SQL")
    ctx.out(f"{'MEMORY_USED:':>21} {512:>8}")
    ctx.out(f"{'PAGECACHE_OVERFLOW:':>21} {104:>8} {'MALLOC_SIZE:':>21} {117:>8}")
    ctx.out()
    ctx.out(" DATABASES")
    ctx.out(f"{'pgsz':>6} {'dbsz':>8} {'Lookaside(b)':>14} {'cache':>11}  Dbname")
    ctx.out(f"{4:>6} {48:>8} {109:>14} {'12/24/6':>11}  /data/user/0/"
            f"{getattr(runtime, 'package', '')}/no_backup/androidx.work.workdb")
