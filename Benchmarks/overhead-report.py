"""Turns the runs of Benchmarks/wasm-overhead.sh (a TSV, one row per run) into the Markdown
section of Docs/performance.md. Exits 1 when any run's checksum differs from the native build's.

    python Benchmarks/overhead-report.py RESULTS.tsv --wasmtime VERSION
"""
import argparse
import math
import csv
import statistics
import sys

CLASS = {
    "empty": "start-up only (empty `main`)",
    "stream": "sequential memory (STREAM triad, 72 MiB)",
    "pointer-chase": "pointer chasing (64 MiB Sattolo cycle)",
    "compute": "compute (SHA-256 32 MiB + 256² matmul)",
    "mixed": "mixed (sort 4 Mi ints + 20 MB CSV)",
}
ENGINE_NOTE = {
    "baseline": "eager translation of every function at instantiation (the configuration before issue #7)",
    "token": "token-threaded dispatch loop instead of direct-threaded tail calls",
    "software-bounds": "an explicit bounds check before every memory access instead of guard pages",
    "eager": "eager translation of every function at instantiation",
}


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("results")
    parser.add_argument("--wasmtime", default="?")
    parser.add_argument("--engines", default="")
    parser.add_argument("--part", choices=["overhead", "engine"], default="overhead")
    args = parser.parse_args()
    rows = list(csv.DictReader(open(args.results), delimiter="\t"))
    workloads = list(dict.fromkeys(r["workload"] for r in rows))
    engines = args.engines.split()
    runners = ["native", "twocvm", "twocvm-wasmtime", "twocvm-wasmtime-cold", "wasmtime", "wasmtime-metered", "wasmtime-epoch"] + [f"twocvm@{e}" for e in engines]
    runs = {}
    for r in rows:
        runs.setdefault((r["workload"], r["runner"]), []).append(r)

    # Checksums: every run of every runner equals the native one.
    bad = []
    for w in workloads:
        native = {r["checksum"] for r in runs[(w, "native")]}
        if len(native) != 1:
            bad.append(f"{w}: native runs disagree: {sorted(native)}")
            continue
        for runner in runners:
            for r in runs.get((w, runner), []):
                if r["checksum"] != next(iter(native)):
                    bad.append(f"{w}: {runner} round {r['round']}: {r['checksum']} != native {next(iter(native))}")
    if bad:
        print("wasm-overhead: CHECKSUMS DISAGREE:\n  " + "\n  ".join(bad), file=sys.stderr)
        return 1

    def values(w, runner, key):
        return [float(r[key]) for r in runs.get((w, runner), []) if r[key] != ""]

    def med(w, runner, key):
        v = values(w, runner, key)
        return statistics.median(v) if v else float("nan")

    def cell(w, runner, key):
        v = values(w, runner, key)
        if not v:
            return "–"
        return f"{statistics.median(v):.3f} s ({min(v):.3f}–{max(v):.3f})"

    def ratio(a, b):
        return f"{a / b:.2f}×" if b > 1e-4 and a > 1e-4 else "–"

    n = len(runs[(workloads[0], "native")])
    n_wasmkit = len(runs.get((workloads[0], "twocvm"), []))
    if args.part == "engine":
        runs_of = lambda runner: runs.get((workloads[-1], runner), [])
        return engine_section(args, engines, workloads, med, cell, ratio, runs_of)
    print("## Sandbox overhead by workload class")
    print()
    print(f"The same C source per workload (`Benchmarks/workloads/`), compiled natively with gcc -O2 and to")
    print(f"wasm32-wasi with clang -O2 and wasi-libc, run {n} times each ({n_wasmkit} under the WasmKit interpreter, whose runs take")
    print(f"seconds), interleaved (native, twocvm, wasmtime, then twocvm with each engine setting below, per workload per round).")
    print(f"*twocvm* is `twocvm run PLAN --dev --json` on a")
    print(f"one-component manifest (keygen'd participant, approval, `compose`): the broker starts the")
    print(f"component in its own `twocvm _component` child process, hands it its inputs as sealed memory files and the module over its stdin socket (the first child started before the plan is read),")
    print(f"and WasmKit interprets it with fuel metering on. *wasmtime* is the PyPI `wasmtime` {args.wasmtime}")
    print(f"(Cranelift JIT, no fuel) through `Benchmarks/wasmtime-run.py` with the same `/in` and `/out`.")
    print(f"*Kernel* is the time each workload measures around its own kernel (CLOCK_MONOTONIC, also")
    print(f"under WASI); *whole command* includes process start, data generation, module compilation and")
    print(f"(twocvm) the transfer of module and inputs to the child. Median and (min–max). Every run printed")
    print(f"the same checksum as the native build (checked; the bench fails otherwise).")
    print()
    print("| workload class | checksum | native kernel | twocvm kernel | wasmtime kernel | **twocvm ÷ native** | wasmtime ÷ native | **twocvm ÷ wasmtime** |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for w in workloads:
        nk, tk, wk = (med(w, x, "kernel_s") for x in ("native", "twocvm", "wasmtime"))
        print(f"| {CLASS.get(w, w)} | `{runs[(w, 'native')][0]['checksum']}` | {cell(w, 'native', 'kernel_s')} "
              f"| {cell(w, 'twocvm', 'kernel_s')} | {cell(w, 'wasmtime', 'kernel_s')} "
              f"| **{ratio(tk, nk)}** | {ratio(wk, nk)} | **{ratio(tk, wk)}** |")
    print()
    k = {w: {x: med(w, x, "kernel_s") for x in ("native", "twocvm", "wasmtime")} for w in workloads}
    def r(w, a, b):
        return f"{k[w][a] / k[w][b]:.2f}×" if w in k and k[w][b] > 1e-4 else "?"
    print("Reading, against the 2cVM paper's headline (isolation is nearly free for sequential memory")
    print("access, about 2× for pointer chasing, and the Wasm sandbox dominates the cost): with a JIT")
    print(f"(wasmtime, as in the paper's prototype) the kernels run at {r('stream', 'wasmtime', 'native')} (STREAM),")
    print(f"{r('pointer-chase', 'wasmtime', 'native')} (pointer chasing), {r('compute', 'wasmtime', 'native')} (compute) and {r('mixed', 'wasmtime', 'native')} (mixed) of native.")
    print(f"twocvm's WasmKit interpreter costs {r('compute', 'twocvm', 'native')} native on compute and {r('stream', 'twocvm', 'native')} on STREAM, because it pays")
    print("a handler per Wasm instruction (see the profile below), but pointer chasing stays at")
    print(f"{r('pointer-chase', 'twocvm', 'native')}: a dependent miss to DRAM costs the same from an interpreter, so memory latency")
    ns = k["pointer-chase"]["native"] / (2 << 20) * 1e9 if "pointer-chase" in k else float("nan")
    print(f"hides the dispatch: natively each of the 2 Mi dependent loads takes {ns:.0f} ns on this machine")
    print("(a virtual machine: TLB misses walk nested page tables), which dwarfs the few nanoseconds of")
    print("the interpreter's handlers. The sandbox layer (Wasm) dominates the cost in every class; SEV-SNP")
    print("memory encryption itself is not part of this measurement (no SNP hardware here).")
    print()
    print("Whole command (wall clock, from the shell):")
    print()
    print("| workload | native | twocvm run | wasmtime (incl. Python start, Cranelift compile) | twocvm ÷ native | wasmtime ÷ native | twocvm ÷ wasmtime |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for w in workloads:
        nw, tw, ww = (med(w, x, "wall_s") for x in ("native", "twocvm", "wasmtime"))
        print(f"| {w} | {cell(w, 'native', 'wall_s')} | {cell(w, 'twocvm', 'wall_s')} | {cell(w, 'wasmtime', 'wall_s')} "
              f"| {ratio(tw, nw)} | {ratio(ww, nw)} | {ratio(tw, ww)} |")
    print()
    print("Where the twocvm whole-command time goes, and memory (medians): *component* is the broker's")
    print("timing of the child process (spawn, request over the pipe, instantiate, run, response);")
    print("*fuel* is WasmKit's count of executed instructions; *linear memory* the module's memory at")
    print("exit; peak RSS is `/usr/bin/time`'s maximum resident set (for twocvm: the largest of broker")
    print("and child, as the kernel reports it to the waiting parent; *child RSS* is the component process")
    print("alone, from `--json`).")
    print()
    print("| workload | twocvm whole | component (child) | kernel | fuel | linear memory | child RSS | peak RSS native | peak RSS twocvm | peak RSS wasmtime | wasmtime compile |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for w in workloads:
        mib = lambda b: f"{b / 1048576:.0f} MiB"
        print(f"| {w} | {med(w, 'twocvm', 'wall_s'):.3f} s | {med(w, 'twocvm', 'component_s'):.3f} s "
              f"| {med(w, 'twocvm', 'kernel_s'):.3f} s | {med(w, 'twocvm', 'fuel') / 1e9:.2f} G "
              f"| {mib(med(w, 'twocvm', 'linear_bytes'))} | {mib(med(w, 'twocvm', 'child_rss'))} "
              f"| {mib(med(w, 'native', 'rss_kib') * 1024)} | {mib(med(w, 'twocvm', 'rss_kib') * 1024)} "
              f"| {mib(med(w, 'wasmtime', 'rss_kib') * 1024)} | {med(w, 'wasmtime', 'compile_s'):.3f} s |")
    print()
    compiling_section(workloads, med, cell, ratio, runs)
    return 0


def compiling_section(workloads, med, cell, ratio, runs):
    """The compiling engine: `twocvm run` with `engine = "wasmtime"` against native, standalone
    wasmtime and the WasmKit engine, with the goals of issue #13."""
    if not any((w, "twocvm-wasmtime") in runs for w in workloads):
        return
    classes = [w for w in workloads if w != "empty"]
    def geo(values):
        values = [v for v in values if v > 0]
        return math.exp(sum(math.log(v) for v in values) / len(values)) if values else float("nan")
    print("## The compiling engine (wasmtime)")
    print()
    print("The same workloads and rounds, run by `twocvm run` with `engine = \"wasmtime\"` in the manifest")
    print("(*twocvm/wasmtime*): the pinned wasmtime 50.0.1 library (Cranelift), loaded and SHA-256-checked by")
    print("the broker, the module compiled in the component's child before its seccomp lockdown, with fuel")
    print("metering on (which standalone *wasmtime* runs without; the wall-clock limit is checked each time")
    print("the guest yields on fuel, so it adds no instrumentation of its own), and its")
    print("compiled-module cache warm (one run of each workload before the rounds filled it; Docs/sandbox.md).")
    print("*no cache* is the same run with `TWOCVM_ENGINE_CACHE=off`: it compiles the module and hashes")
    print("the library every time, as a first run does. *twocvm/WasmKit* is the interpreter, as above.")
    print()
    print("*wasmtime, metered* is standalone wasmtime with the same fuel metering that twocvm's engine")
    print("always has on (the manifest's `limits.fuel`, SPEC §8): the difference between it and plain")
    print("*wasmtime* is the cost of that instrumentation, the difference between twocvm/wasmtime and it is")
    print("twocvm's own. *wasmtime, metered + epoch* adds epoch interruption, the second instrumentation that")
    print("enforced the wall-clock limit before it moved onto the fuel checks (Docs/sandbox.md).")
    print()
    print("| workload class | native kernel | twocvm/wasmtime kernel | wasmtime kernel | wasmtime, metered, kernel | twocvm/WasmKit kernel "
          "| **twocvm/wasmtime ÷ native** | twocvm/wasmtime ÷ wasmtime | twocvm/wasmtime ÷ wasmtime, metered | twocvm/WasmKit ÷ twocvm/wasmtime |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for w in workloads:
        nk, ck, wk, mk, ik = (med(w, x, "kernel_s") for x in ("native", "twocvm-wasmtime", "wasmtime", "wasmtime-metered", "twocvm"))
        print(f"| {w} | {cell(w, 'native', 'kernel_s')} | {cell(w, 'twocvm-wasmtime', 'kernel_s')} | {cell(w, 'wasmtime', 'kernel_s')} "
              f"| {cell(w, 'wasmtime-metered', 'kernel_s')} | {cell(w, 'twocvm', 'kernel_s')} | **{ratio(ck, nk)}** | {ratio(ck, wk)} "
              f"| {ratio(ck, mk)} | {ratio(ik, ck)} |")
    kernel_geo = geo([med(w, "twocvm-wasmtime", "kernel_s") / med(w, "native", "kernel_s") for w in classes])
    # What no embedding of wasmtime that keeps fuel metering on (SPEC §8) can beat on this machine.
    metered_geo = geo([med(w, "wasmtime-metered", "kernel_s") / med(w, "native", "kernel_s") for w in classes])
    plain_geo = geo([med(w, "wasmtime", "kernel_s") / med(w, "native", "kernel_s") for w in classes])
    print()
    print(f"Geometric mean of the kernel ratio to native over {', '.join(classes)}: **{kernel_geo:.2f}×**; "
          f"standalone wasmtime with the same metering: {metered_geo:.2f}×; plain wasmtime: {plain_geo:.2f}×. "
          "The metering alone (metered ÷ plain wasmtime): "
          + ", ".join(f"{w} {med(w, 'wasmtime-metered', 'kernel_s') / med(w, 'wasmtime', 'kernel_s'):.2f}×" for w in classes)
          + "; fuel and epoch interruption together (metered + epoch ÷ plain wasmtime): "
          + ", ".join(f"{w} {med(w, 'wasmtime-epoch', 'kernel_s') / med(w, 'wasmtime', 'kernel_s'):.2f}×" for w in classes) + ".")
    print()
    print("Whole command and memory (medians; peak RSS is `/usr/bin/time`'s maximum resident set of the")
    print("largest process, broker or child; *compile* is Cranelift's time for the module in standalone")
    print("wasmtime, the same compiler and library):")
    print()
    print("| workload | native | twocvm/wasmtime | twocvm/wasmtime, no cache | twocvm/WasmKit | **twocvm/wasmtime ÷ native** "
          "| component (child) | peak RSS native | peak RSS twocvm/wasmtime | RSS over native | compile |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    mib = lambda b: f"{b / 1048576:.0f} MiB"
    for w in workloads:
        nw, cw = med(w, "native", "wall_s"), med(w, "twocvm-wasmtime", "wall_s")
        nr, cr = med(w, "native", "rss_kib") * 1024, med(w, "twocvm-wasmtime", "rss_kib") * 1024
        print(f"| {w} | {cell(w, 'native', 'wall_s')} | {cell(w, 'twocvm-wasmtime', 'wall_s')} "
              f"| {cell(w, 'twocvm-wasmtime-cold', 'wall_s')} | {med(w, 'twocvm', 'wall_s'):.3f} s "
              f"| **{ratio(cw, nw)}** | {med(w, 'twocvm-wasmtime', 'component_s'):.3f} s | {mib(nr)} | {mib(cr)} "
              f"| +{(cr - nr) / 1048576:.0f} MiB | {med(w, 'wasmtime', 'compile_s'):.3f} s |")
    print()
    goals_table(workloads, classes, med, kernel_geo, metered_geo)


def verdict(measured, goal, floor):
    """Whether a figure meets its goal; when it does not, whether the goal is out of reach here:
    the floor (what standalone wasmtime with the same mandatory fuel metering reaches on this
    machine) is itself above the goal and twocvm is within 10% of that floor (the issue's own
    tolerance for twocvm over standalone wasmtime)."""
    if measured <= goal:
        return "met"
    if floor is not None and floor > goal and measured <= floor * 1.10:
        return f"out of reach with fuel on: the floor is above the goal; twocvm at {measured / floor:.2f}× the floor"
    return "**missed**"


def goals_table(workloads, classes, med, kernel_geo, metered_geo):
    """The goals of issue #13, each beside the floor that standalone wasmtime with the same fuel
    metering (SPEC §8: fuel metering is on for every run) reaches on the machine at hand."""
    def kernel(w, runner):
        return med(w, runner, "kernel_s")
    def whole_floor(w):  # metered wasmtime's kernel plus native's own time outside its kernel
        return (kernel(w, "wasmtime-metered") + med(w, "native", "wall_s") - kernel(w, "native")) / med(w, "native", "wall_s")
    # (goal, figure of this run, target, floor with fuel or None, unit)
    rows = [("kernel time ÷ native, geometric mean of the classes", kernel_geo, 1.3, metered_geo, "×")]
    for w in classes:
        rows.append((f"kernel time ÷ standalone wasmtime, {w}", kernel(w, "twocvm-wasmtime") / kernel(w, "wasmtime"), 1.1,
                     kernel(w, "wasmtime-metered") / kernel(w, "wasmtime"), "×"))
    if "empty" in workloads:
        rows.append(("whole `twocvm run` of the empty component", med("empty", "twocvm-wasmtime", "wall_s") * 1000, 25, None, " ms"))
    for w in ("stream", "compute", "mixed"):
        if w in workloads:
            rows.append((f"whole command ÷ native, {w}", med(w, "twocvm-wasmtime", "wall_s") / med(w, "native", "wall_s"), 1.5,
                         whole_floor(w), "×"))
    for w in classes:
        rows.append((f"peak RSS over native, {w}", (med(w, "twocvm-wasmtime", "rss_kib") - med(w, "native", "rss_kib")) / 1024, 40,
                     None, " MiB"))
    print("Goals of issue #13, measured in this run. *Floor* is what standalone wasmtime with the same fuel")
    print("metering reaches on this machine: fuel metering is on for every run (SPEC §8, the manifest's")
    print("`limits.fuel`), so no embedding of wasmtime 50 can do better. For the kernel it is metered wasmtime's")
    print("own ratio; for the whole command, metered wasmtime's kernel plus native's own time outside its")
    print("kernel. The issue's goals were set from plain wasmtime's figures on an Intel Xeon host; where the")
    print("floor is above a goal, the goal cannot be met with fuel on, and what twocvm answers for is its")
    print("distance to the floor (twocvm/wasmtime ÷ wasmtime, metered, in the kernel table above).")
    print()
    print("| goal | target | measured | floor with fuel | verdict |")
    print("| --- | ---: | ---: | ---: | --- |")
    for name, measured, goal, floor, unit in rows:
        shown = (lambda v: f"{v:.0f}{unit}") if unit.strip() in ("ms", "MiB") else (lambda v: f"{v:.2f}{unit}")
        sign = "+" if unit == " MiB" else ""
        print(f"| {name} | ≤ {goal:g}{unit} | {sign}{shown(measured)} | {shown(floor) if floor is not None else '—'} "
              f"| {verdict(measured, goal, floor)} |")
    print()


def engine_section(args, engines, workloads, med, cell, ratio, runs_of):
    if not engines:
        return 0
    print("## Engine configuration: before and after (same run)")
    print()
    print("The same binary and plans with `TWOCVM_ENGINE=NAME` (the broker passes the setting to the")
    print("component's child process; `Sources/Sandbox/SandboxConfiguration.swift`,")
    print("`SandboxEngineSettings`). Every setting keeps fuel metering, bounds checks and validation;")
    print("only speed differs. *default* is what `twocvm run` uses (lazy translation, direct threading,")
    print("guard-page bounds checks); the columns change one setting each (rounds per setting in brackets):")
    print()
    for e in engines:
        rounds = len(runs_of(f"twocvm@{e}"))
        print(f"* **{e}** ({rounds} rounds): {ENGINE_NOTE.get(e, e)}.")
    print()
    head = " | ".join(f"kernel {e}" for e in engines)
    whole = " | ".join(f"whole {e}" for e in engines)
    print(f"| workload | kernel default | {head} | whole default | {whole} |")
    print("| --- | ---: | " + "---: | " * len(engines) + "---: | " + "---: | " * len(engines))
    for w in workloads:
        kd, wd = med(w, "twocvm", "kernel_s"), med(w, "twocvm", "wall_s")
        kernels = " | ".join(
            f"{med(w, f'twocvm@{e}', 'kernel_s'):.3f} s ({ratio(med(w, f'twocvm@{e}', 'kernel_s'), kd)})" for e in engines)
        wholes = " | ".join(
            f"{med(w, f'twocvm@{e}', 'wall_s'):.3f} s ({ratio(med(w, f'twocvm@{e}', 'wall_s'), wd)})" for e in engines)
        print(f"| {w} | {kd:.3f} s | {kernels} | {wd:.3f} s | {wholes} |")
    print()
    print("Medians; in brackets the time relative to *default* (above 1× = slower than default).")
    print()
    def spread(e, key):
        v = [med(w, f"twocvm@{e}", key) / med(w, "twocvm", key) for w in workloads
             if med(w, "twocvm", key) > 1e-3 and med(w, f"twocvm@{e}", key) > 1e-3]
        return (min(v), max(v)) if v else (float("nan"), float("nan"))
    for e in engines:
        lo, hi = spread(e, "kernel_s")
        wlo, whi = spread(e, "wall_s")
        print(f"* **{e}**: kernels {lo:.2f}×–{hi:.2f}×, whole commands {wlo:.2f}×–{whi:.2f}× the default's time.")
    print()
    print("Reading: the two settings that matter for speed, direct-threaded dispatch and guard-page bounds")
    print("checks, are WasmKit's defaults on Linux x86-64 and were already in use before issue #7; the")
    print("sweep confirms them (token dispatch is the slowest by far; software bounds checks cost most on")
    print("the memory-heavy kernels). Eager against lazy translation is within the run-to-run spread for")
    print("these 35–40 KB modules: a C program that prints calls most of its wasi-libc stdio code, so lazy")
    print("translation skips little (a `perf` profile of the *empty* workload shows translation at about")
    print("the same share either way). Lazy is the default because a run then translates only the")
    print("functions it calls, which pays off as modules grow, while `compose` still validates every")
    print("function body in full and a lazily translated body is validated before it first runs. Fuel metering stays")
    print("on in every setting (it enforces `limits.fuel`); its cost is the `consumeFuel` share in the")
    print("profile below. The rest of the gap is the interpreter itself.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
