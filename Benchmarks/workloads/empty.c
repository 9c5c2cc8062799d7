/*
 * empty: no kernel at all; the whole-command time is the runner's start-up and tear-down
 * (process start, module compilation or translation, instantiation, WASI set-up, exit).
 */
#include "bench.h"

int main(int argc, char **argv) {
    double start = bench_now();
    double kernel = bench_now() - start;
    bench_report(argc, argv, "empty", 0x600D, kernel);
    return 0;
}
