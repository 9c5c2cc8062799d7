/*
 * pointer-chase: a random cyclic permutation of 16 Mi 32-bit indices (64 MiB, Sattolo's
 * algorithm, so the walk visits every slot before it returns), then 2 Mi dependent loads
 * p = next[p]: every load misses the caches and most miss the TLB. Kernel time = the walk.
 */
#include "bench.h"

#define N (16u << 20)
#define STEPS (2u << 20)

int main(int argc, char **argv) {
    uint32_t *next = bench_alloc(N * sizeof(uint32_t));
    for (uint32_t i = 0; i < N; i++) next[i] = i;
    uint64_t seed = 42;
    for (uint32_t i = N - 1; i > 0; i--) {          /* Sattolo: j < i gives one cycle */
        uint32_t j = (uint32_t)(bench_rng(&seed) % i);
        uint32_t t = next[i]; next[i] = next[j]; next[j] = t;
    }
    double start = bench_now();
    uint32_t p = 0;
    uint64_t sum = 0;
    for (uint32_t step = 0; step < STEPS; step++) {
        p = next[p];
        sum += p;
    }
    double kernel = bench_now() - start;
    uint64_t hash = bench_mix(bench_mix(BENCH_FNV_OFFSET, p), sum);
    bench_report(argc, argv, "pointer-chase", hash, kernel);
    return 0;
}
