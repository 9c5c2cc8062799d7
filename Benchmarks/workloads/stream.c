/*
 * stream: the STREAM triad a[i] = b[i] + s * c[i] over three arrays of 3 Mi doubles (72 MiB in
 * all), 10 passes: sequential memory access. Kernel time = the 10 triad passes.
 */
#include "bench.h"

#define N (3u << 20)
#define PASSES 10

int main(int argc, char **argv) {
    double *a = bench_alloc(N * sizeof(double));
    double *b = bench_alloc(N * sizeof(double));
    double *c = bench_alloc(N * sizeof(double));
    for (uint32_t i = 0; i < N; i++) {
        a[i] = 0.0;
        b[i] = (double)(i % 1000) * 0.5;
        c[i] = (double)(i % 777) * 0.25;
    }
    double start = bench_now();
    for (int pass = 0; pass < PASSES; pass++) {
        double s = 1.0 + pass * 0.125;
        for (uint32_t i = 0; i < N; i++) a[i] = b[i] + s * c[i];
        /* feed the result back so no pass can be skipped */
        double *t = b; b = a; a = t;
    }
    double kernel = bench_now() - start;
    uint64_t hash = BENCH_FNV_OFFSET;
    double sum = 0.0;
    for (uint32_t i = 0; i < N; i++) sum += b[i];
    hash = bench_mix(hash, bench_double_bits(sum));
    for (uint32_t i = 0; i < N; i += 4099) hash = bench_mix(hash, bench_double_bits(b[i]));
    bench_report(argc, argv, "stream", hash, kernel);
    return 0;
}
