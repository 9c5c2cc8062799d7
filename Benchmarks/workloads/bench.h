/*
 * Shared by the overhead-study workloads (the C files of Benchmarks/workloads): a deterministic PRNG,
 * the monotonic clock, and the one result line every build prints.
 *
 * Each workload is the same C file compiled natively (gcc -O2) and to wasm32-wasi (clang -O2,
 * wasi-libc). Its result line is
 *
 *     workload=NAME checksum=<16 hex> kernel_s=<seconds>
 *
 * written to stdout and to the result file: argv[1] natively, /out/result in a sandbox (under
 * `twocvm run` a component's argv is just its id, so it takes no path). The checksum must be
 * identical across every build and runner; kernel_s is the kernel's own time on
 * CLOCK_MONOTONIC (the component needs wasi = ["clock"]).
 */
#ifndef BENCH_H
#define BENCH_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline double bench_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* splitmix64: tiny, fast, and the same sequence on every target. */
static inline uint64_t bench_rng(uint64_t *state) {
    uint64_t z = (*state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* FNV-1a over 64-bit words: the running checksum of a workload. */
static inline uint64_t bench_mix(uint64_t hash, uint64_t word) {
    for (int i = 0; i < 8; i++) {
        hash ^= (word >> (8 * i)) & 0xFF;
        hash *= 0x100000001B3ULL;
    }
    return hash;
}
#define BENCH_FNV_OFFSET 0xCBF29CE484222325ULL

static inline uint64_t bench_double_bits(double value) {
    uint64_t bits;
    memcpy(&bits, &value, sizeof bits);
    return bits;
}

static inline void *bench_alloc(size_t bytes) {
    void *p = malloc(bytes);
    if (!p) {
        fprintf(stderr, "out of memory (%zu bytes)\n", bytes);
        exit(1);
    }
    return p;
}

static inline void bench_report(int argc, char **argv, const char *name, uint64_t checksum, double kernel_s) {
    char line[160];
    snprintf(line, sizeof line, "workload=%s checksum=%016llx kernel_s=%.6f\n", name,
             (unsigned long long)checksum, kernel_s);
    fputs(line, stdout);
    const char *path = argc > 1 ? argv[1] : "/out/result";
    FILE *out = fopen(path, "w");
    if (!out || fputs(line, out) < 0 || fclose(out) != 0) {
        fprintf(stderr, "%s: cannot write %s\n", name, path);
        exit(1);
    }
}

#endif
