/*
 * mixed: sort 4 Mi pseudo-random 32-bit integers (quicksort, median of three, insertion sort
 * for short runs), then read a ~20 MB CSV of orders from the component's input channel, parse
 * it and aggregate revenue per region and per SKU. Kernel time = sort + read + parse +
 * aggregate.
 *
 *   mixed                     in a sandbox: /in/orders -> /out/result
 *   mixed OUT IN              natively
 *   mixed --generate FILE     writes the CSV (deterministic, seed 2026), natively
 */
#include "bench.h"

#define SORT_N (4u << 20)
#define CSV_BYTES 20000000u
#define REGIONS 8
#define SKUS 1000

static const char *REGION[REGIONS] = {"eu-west", "eu-north", "us-east", "us-west",
                                      "ap-south", "ap-east", "sa-east", "af-south"};

static void insertion_sort(uint32_t *v, long lo, long hi) {
    for (long i = lo + 1; i <= hi; i++) {
        uint32_t x = v[i];
        long j = i - 1;
        while (j >= lo && v[j] > x) { v[j + 1] = v[j]; j--; }
        v[j + 1] = x;
    }
}

static void quicksort(uint32_t *v, long lo, long hi) {
    while (hi - lo > 16) {
        long mid = lo + (hi - lo) / 2;
        uint32_t t;
        if (v[mid] < v[lo]) { t = v[mid]; v[mid] = v[lo]; v[lo] = t; }
        if (v[hi] < v[lo]) { t = v[hi]; v[hi] = v[lo]; v[lo] = t; }
        if (v[hi] < v[mid]) { t = v[hi]; v[hi] = v[mid]; v[mid] = t; }
        uint32_t pivot = v[mid];
        long i = lo, j = hi;
        while (i <= j) {
            while (v[i] < pivot) i++;
            while (v[j] > pivot) j--;
            if (i <= j) { t = v[i]; v[i] = v[j]; v[j] = t; i++; j--; }
        }
        /* recurse into the smaller half, loop on the larger: O(log n) stack */
        if (j - lo < hi - i) { quicksort(v, lo, j); lo = i; } else { quicksort(v, i, hi); hi = j; }
    }
    insertion_sort(v, lo, hi);
}

static int generate(const char *path) {
    FILE *f = fopen(path, "w");
    if (!f) { perror(path); return 1; }
    uint64_t seed = 2026, written = 0, order = 100000;
    written += (uint64_t)fprintf(f, "order_id,customer,region,sku,qty,unit_price\n");
    while (written < CSV_BYTES) {
        uint64_t r = bench_rng(&seed);
        unsigned customer = (unsigned)(r % 50000), region = (unsigned)((r >> 20) % REGIONS);
        unsigned sku = (unsigned)((r >> 28) % SKUS), qty = 1 + (unsigned)((r >> 40) % 20);
        unsigned cents = 99 + (unsigned)((r >> 45) % 49900);
        written += (uint64_t)fprintf(f, "%llu,C%06u,%s,SKU-%04u,%u,%u.%02u\n", (unsigned long long)order++,
                                     customer, REGION[region], sku, qty, cents / 100, cents % 100);
    }
    return fclose(f) == 0 ? 0 : 1;
}

static void bad(long line) {
    fprintf(stderr, "orders:%ld: malformed row\n", line);
    exit(1);
}

/* Parses an unsigned decimal at *p up to `stop`, advancing past the stop character. */
static uint64_t number(const char **p, char stop, long line) {
    const char *s = *p;
    uint64_t v = 0;
    if (*s < '0' || *s > '9') bad(line);
    while (*s >= '0' && *s <= '9') v = v * 10 + (uint64_t)(*s++ - '0');
    if (*s != stop) bad(line);
    *p = s + 1;
    return v;
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "--generate") == 0) return generate(argv[2]);
    const char *input = argc > 2 ? argv[2] : "/in/orders";

    uint32_t *v = bench_alloc(SORT_N * sizeof(uint32_t));
    uint64_t seed = 99;
    for (uint32_t i = 0; i < SORT_N; i++) v[i] = (uint32_t)bench_rng(&seed);

    double start = bench_now();
    quicksort(v, 0, SORT_N - 1);

    FILE *f = fopen(input, "r");
    if (!f) { fprintf(stderr, "mixed: cannot open %s\n", input); return 1; }
    size_t cap = CSV_BYTES + (1u << 20), len = 0, n;
    char *text = bench_alloc(cap + 1);
    while ((n = fread(text + len, 1, cap - len, f)) > 0) len += n;
    fclose(f);
    if (len == cap) { fprintf(stderr, "mixed: input too large\n"); return 1; }
    text[len] = '\0';

    uint64_t revenue[REGIONS] = {0}, count[REGIONS] = {0}, sku_revenue[SKUS] = {0}, quantity = 0;
    const char *p = strchr(text, '\n');
    if (!p) bad(1);
    p++;
    long line = 2;
    while (*p) {
        number(&p, ',', line);                                   /* order_id */
        if (*p++ != 'C') bad(line);
        number(&p, ',', line);                                   /* customer */
        int region = -1;
        for (int r = 0; r < REGIONS; r++) {
            size_t l = strlen(REGION[r]);
            if (strncmp(p, REGION[r], l) == 0 && p[l] == ',') { region = r; p += l + 1; break; }
        }
        if (region < 0 || strncmp(p, "SKU-", 4) != 0) bad(line);
        p += 4;
        uint64_t sku = number(&p, ',', line), qty = number(&p, ',', line);
        uint64_t whole = number(&p, '.', line), frac = number(&p, '\n', line);
        if (sku >= SKUS) bad(line);
        uint64_t cents = qty * (whole * 100 + frac);
        revenue[region] += cents; count[region]++; sku_revenue[sku] += cents; quantity += qty;
        line++;
    }
    unsigned best = 0;
    for (unsigned s = 1; s < SKUS; s++) if (sku_revenue[s] > sku_revenue[best]) best = s;
    double kernel = bench_now() - start;

    uint64_t hash = BENCH_FNV_OFFSET;
    for (uint32_t i = 1; i < SORT_N; i++) if (v[i - 1] > v[i]) { fprintf(stderr, "mixed: not sorted\n"); return 1; }
    for (uint32_t i = 0; i < SORT_N; i += 1021) hash = bench_mix(hash, v[i]);
    for (int r = 0; r < REGIONS; r++) hash = bench_mix(bench_mix(hash, revenue[r]), count[r]);
    hash = bench_mix(bench_mix(bench_mix(hash, best), sku_revenue[best]), quantity);
    hash = bench_mix(hash, (uint64_t)(line - 2));
    bench_report(argc, argv, "mixed", hash, kernel);
    return 0;
}
