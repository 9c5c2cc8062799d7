/*
 * yield-model: the designer's component of the two-party wafer-yield study.
 *
 * Reads per-die features (/in/die-features, from the fab's wafer-parser) and the designer's
 * confidential product spec (/in/product-spec: `key = value` lines, `die_area_cm2` of the next
 * product), and writes per-lot yield statistics (/out/yield-report, CSV): yield overall and by
 * wafer zone, the spread of wafer yields, the median leakage of good dies, threshold-voltage
 * mean and spread, the fail Pareto, and the designer's defect model: a Poisson defect density
 * D0 fitted to the functional-fail rate of the wafer centre, and from it the predicted yield of
 * the designer's next die. Only this report leaves the VM: the fab never sees the product spec,
 * the designer never sees a wafer map.
 *
 * In the sandbox it takes no arguments. Natively (for checking): yield-model IN SPEC OUT.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LINE 256
#define MAX_LOTS 64
#define MAX_WAFERS 64
#define MAX_DIES 200000

static const double DIE_AREA_CM2 = 0.42;  /* the fab's current die */
static double next_die_cm2;               /* the designer's next product, from the product spec */

enum { CENTER, MIDDLE, EDGE, ZONES };
enum { FAIL_LEAKAGE, FAIL_FUNCTIONAL, FAIL_VTH, FAIL_MODES };

struct lot {
    char id[16];
    long dies, pass, zone_dies[ZONES], zone_pass[ZONES], zone_functional[ZONES], fails[FAIL_MODES];
    int wafer_ids[MAX_WAFERS], wafers;
    long wafer_dies[MAX_WAFERS], wafer_pass[MAX_WAFERS];
    double vth_sum, vth_sq;
    double *good_leakage;
    long good_count;
};

static struct lot lots[MAX_LOTS + 1];  /* the last one collects all lots */
static int lot_count;

static void fail(long line, const char *why) {
    fprintf(stderr, "die-features:%ld: %s\n", line, why);
    exit(1);
}

static int compare_doubles(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static struct lot *lot_named(const char *id, long line) {
    for (int i = 0; i < lot_count; i++)
        if (strcmp(lots[i].id, id) == 0) return &lots[i];
    if (lot_count == MAX_LOTS) fail(line, "too many lots");
    if (strlen(id) >= sizeof lots[0].id) fail(line, "bad lot id");
    struct lot *lot = &lots[lot_count++];
    strcpy(lot->id, id);
    return lot;
}

static void add_die(struct lot *lot, int wafer, int zone, int pass, int mode, double leakage, double vth, long line) {
    int w = 0;
    while (w < lot->wafers && lot->wafer_ids[w] != wafer) w++;
    if (w == lot->wafers) {
        if (lot->wafers == MAX_WAFERS) fail(line, "too many wafers");
        lot->wafer_ids[lot->wafers++] = wafer;
    }
    lot->dies++;
    lot->zone_dies[zone]++;
    lot->wafer_dies[w]++;
    lot->vth_sum += vth;
    lot->vth_sq += vth * vth;
    if (pass) {
        lot->pass++;
        lot->zone_pass[zone]++;
        lot->wafer_pass[w]++;
        if (!lot->good_leakage) lot->good_leakage = malloc(sizeof(double) * MAX_DIES);
        if (!lot->good_leakage) fail(line, "out of memory");
        lot->good_leakage[lot->good_count++] = leakage;
    } else {
        lot->fails[mode]++;
        if (mode == FAIL_FUNCTIONAL) lot->zone_functional[zone]++;
    }
}

static double pct(long part, long whole) { return whole ? 100.0 * (double)part / (double)whole : 0.0; }

static void report(FILE *out, struct lot *lot) {
    double mean_wy = 0, min_wy = 100, max_wy = 0, sd_wy = 0;
    for (int w = 0; w < lot->wafers; w++) {
        double y = pct(lot->wafer_pass[w], lot->wafer_dies[w]);
        mean_wy += y / lot->wafers;
        if (y < min_wy) min_wy = y;
        if (y > max_wy) max_wy = y;
    }
    for (int w = 0; w < lot->wafers; w++) {
        double d = pct(lot->wafer_pass[w], lot->wafer_dies[w]) - mean_wy;
        sd_wy += d * d;
    }
    sd_wy = lot->wafers > 1 ? sqrt(sd_wy / (lot->wafers - 1)) : 0.0;

    double median = 0;
    if (lot->good_count) {
        qsort(lot->good_leakage, (size_t)lot->good_count, sizeof(double), compare_doubles);
        long m = lot->good_count / 2;
        median = lot->good_count % 2 ? lot->good_leakage[m] : (lot->good_leakage[m - 1] + lot->good_leakage[m]) / 2.0;
    }
    double vth_mean = lot->vth_sum / (double)lot->dies;
    double vth_var = (lot->vth_sq - (double)lot->dies * vth_mean * vth_mean) / (double)(lot->dies > 1 ? lot->dies - 1 : 1);
    double vth_sd = vth_var > 0 ? sqrt(vth_var) : 0.0;

    /* Poisson model on the centre, where edge effects do not confound defects. */
    double centre_ok = 1.0 - (double)lot->zone_functional[CENTER] / (double)(lot->zone_dies[CENTER] ? lot->zone_dies[CENTER] : 1);
    double d0 = centre_ok > 0 ? -log(centre_ok) / DIE_AREA_CM2 : INFINITY;
    double parametric = 1.0 - (double)(lot->fails[FAIL_LEAKAGE] + lot->fails[FAIL_VTH]) / (double)lot->dies;
    double predicted = 100.0 * exp(-d0 * next_die_cm2) * parametric;

    fprintf(out, "%s,%ld,%ld,%.2f,%.2f,%.2f,%.2f,%.2f,%.2f,%.2f,%.2f,%.2f,%.2f,%ld,%ld,%ld,%.4f,%.2f\n",
            lot->id, lot->dies, lot->pass, pct(lot->pass, lot->dies), pct(lot->zone_pass[CENTER], lot->zone_dies[CENTER]),
            pct(lot->zone_pass[MIDDLE], lot->zone_dies[MIDDLE]), pct(lot->zone_pass[EDGE], lot->zone_dies[EDGE]),
            min_wy, max_wy, sd_wy, median, vth_mean, vth_sd, lot->fails[FAIL_LEAKAGE], lot->fails[FAIL_FUNCTIONAL],
            lot->fails[FAIL_VTH], d0, predicted);
}

/* Reads `die_area_cm2 = X` from the product spec (other keys and # comments are ignored). */
static void read_product_spec(const char *path) {
    FILE *spec = fopen(path, "r");
    if (!spec) { perror(path); exit(1); }
    char buf[MAX_LINE];
    long line = 0;
    while (fgets(buf, sizeof buf, spec)) {
        line++;
        double value;
        if (sscanf(buf, " die_area_cm2 = %lf", &value) == 1) {
            if (!(value > 0.01 && value < 10.0)) fail(line, "die_area_cm2 outside (0.01, 10) cm^2");
            next_die_cm2 = value;
        }
    }
    fclose(spec);
    if (next_die_cm2 == 0) { fprintf(stderr, "%s: no die_area_cm2\n", path); exit(1); }
}

int main(int argc, char **argv) {
    const char *in_path = argc > 3 ? argv[1] : "/in/die-features";
    const char *spec_path = argc > 3 ? argv[2] : "/in/product-spec";
    const char *out_path = argc > 3 ? argv[3] : "/out/yield-report";
    read_product_spec(spec_path);
    FILE *in = fopen(in_path, "r");
    if (!in) { perror(in_path); return 1; }
    struct lot *all = &lots[MAX_LOTS];
    strcpy(all->id, "ALL");

    char buf[MAX_LINE];
    long line = 0;
    while (fgets(buf, sizeof buf, in)) {
        line++;
        if (line == 1) continue;  /* header */
        char lot_id[16], zone[16], mode[16];
        int wafer, x, y, pass;
        double radius, leakage, vth;
        if (sscanf(buf, "%15[^,],%d,%d,%d,%lf,%15[^,],%d,%15[^,],%lf,%lf", lot_id, &wafer, &x, &y, &radius, zone,
                   &pass, mode, &leakage, &vth) != 10)
            fail(line, "malformed row");
        int z = strcmp(zone, "center") == 0 ? CENTER : strcmp(zone, "middle") == 0 ? MIDDLE : EDGE;
        int m = strcmp(mode, "leakage") == 0 ? FAIL_LEAKAGE : strcmp(mode, "functional") == 0 ? FAIL_FUNCTIONAL : FAIL_VTH;
        if (!pass && strcmp(mode, "none") == 0) fail(line, "failing die without a fail mode");
        add_die(lot_named(lot_id, line), wafer, z, pass, m, leakage, vth, line);
        add_die(all, wafer + 1000 * (int)(lot_named(lot_id, line) - lots), z, pass, m, leakage, vth, line);
    }
    fclose(in);
    if (lot_count == 0) fail(line, "no dies");

    FILE *out = fopen(out_path, "w");
    if (!out) { perror(out_path); return 1; }
    fputs("lot,dies,pass,yield_pct,center_pct,middle_pct,edge_pct,wafer_min_pct,wafer_max_pct,wafer_sd_pct,"
          "leak_median_na,vth_mean_mv,vth_sd_mv,fail_leakage,fail_functional,fail_vth,d0_per_cm2,"
          "predicted_next_die_yield_pct\n", out);
    for (int i = 0; i < lot_count; i++) report(out, &lots[i]);
    report(out, all);
    if (fclose(out) != 0) { perror(out_path); return 1; }
    return 0;
}
