"""Runs one wasm32-wasi (preview 1) command module under wasmtime (the PyPI `wasmtime` package)
the way `twocvm run` presents a component: argv = [component id], inputs read-only under /in,
outputs under /out, no environment, stdout to a file.

    python Benchmarks/wasmtime-run.py MODULE.wasm ID IN_DIR OUT_DIR [--metered] [--epoch]

--metered switches on what twocvm's wasmtime engine always runs with: fuel metering (with an
unreachable budget), so that the cost of that instrumentation is measured apart from twocvm's
own. --epoch adds epoch interruption (with a deadline that never comes), the second
instrumentation twocvm's engine does without (its wall-clock limit rides on the fuel checks).

Prints one JSON line on stdout: the seconds spent compiling (Cranelift) and running `_start`.
"""
import json
import sys
import time

import wasmtime


def main() -> int:
    module_path, component, in_dir, out_dir = sys.argv[1:5]
    metered = "--metered" in sys.argv[5:]
    epoch = "--epoch" in sys.argv[5:]
    started = time.monotonic()
    config = wasmtime.Config()
    config.consume_fuel = metered
    config.epoch_interruption = epoch
    engine = wasmtime.Engine(config)
    module = wasmtime.Module.from_file(engine, module_path)
    compiled = time.monotonic()
    linker = wasmtime.Linker(engine)
    linker.define_wasi()
    store = wasmtime.Store(engine)
    if metered:
        store.set_fuel(1 << 62)
    if epoch:
        store.set_epoch_deadline(1 << 62)
    wasi = wasmtime.WasiConfig()
    wasi.argv = [component]
    wasi.preopen_dir(in_dir, "/in", fs_mutable=False)
    wasi.preopen_dir(out_dir, "/out")
    wasi.stdout_file = f"{out_dir}/.stdout"
    wasi.stderr_file = f"{out_dir}/.stderr"
    store.set_wasi(wasi)
    instance = linker.instantiate(store, module)
    start = instance.exports(store)["_start"]
    code = 0
    try:
        start(store)
    except wasmtime.ExitTrap as exit_trap:
        code = exit_trap.code
    finished = time.monotonic()
    print(json.dumps({"compile_s": compiled - started, "run_s": finished - compiled, "exit": code}))
    return code


if __name__ == "__main__":
    sys.exit(main())
