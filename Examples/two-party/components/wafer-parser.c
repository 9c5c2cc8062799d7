/*
 * wafer-parser: the fab's component of the two-party wafer-yield study.
 *
 * Reads the fab's raw wafer-sort results (/in/wafer-maps, CSV) and writes one feature row per
 * die (/out/die-features, CSV) for the designer's yield model: position on the wafer (radius
 * and zone, computed from each wafer's die grid), pass/fail and fail mode, and the two
 * parametric measurements. The fab's tooling column (probe_card) is dropped here, inside the
 * sandbox: the designer's component never receives it.
 *
 * In the sandbox it takes no arguments. Natively (for checking): wafer-parser IN OUT.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LINE 256
#define MAX_DIES 200000

struct die {
    char lot[16];
    int wafer, x, y, bin;
    double leakage_na, vth_mv;
};

static const char *HEADER = "lot,wafer,die_x,die_y,bin,leakage_na,vth_mv,probe_card";

static void fail(long line, const char *why) {
    fprintf(stderr, "wafer-maps:%ld: %s\n", line, why);
    exit(1);
}

/* Parses one data row; the probe card is checked for shape and then forgotten. */
static void parse_row(char *text, long line, struct die *d) {
    char *fields[8];
    int n = 0;
    for (char *p = text; n < 8; n++) {
        fields[n] = p;
        char *comma = strchr(p, ',');
        if (!comma) { n++; break; }
        *comma = '\0';
        p = comma + 1;
    }
    if (n != 8) fail(line, "expected 8 comma-separated fields");
    size_t lot_len = strlen(fields[0]);
    if (lot_len == 0 || lot_len >= sizeof d->lot) fail(line, "bad lot id");
    memcpy(d->lot, fields[0], lot_len + 1);
    char *end;
    long v[4];
    for (int i = 0; i < 4; i++) {
        v[i] = strtol(fields[1 + i], &end, 10);
        if (end == fields[1 + i] || *end != '\0') fail(line, "bad integer field");
    }
    d->wafer = (int)v[0]; d->x = (int)v[1]; d->y = (int)v[2]; d->bin = (int)v[3];
    if (d->bin < 1 || d->bin > 4) fail(line, "bin must be 1..4");
    d->leakage_na = strtod(fields[5], &end);
    if (end == fields[5] || *end != '\0') fail(line, "bad leakage_na");
    d->vth_mv = strtod(fields[6], &end);
    if (end == fields[6] || *end != '\0') fail(line, "bad vth_mv");
    if (strncmp(fields[7], "PC-", 3) != 0) fail(line, "bad probe_card");
}

static const char *zone_of(double r) {
    if (r < 0.5) return "center";
    if (r < 0.8) return "middle";
    return "edge";
}

int main(int argc, char **argv) {
    const char *in_path = argc > 2 ? argv[1] : "/in/wafer-maps";
    const char *out_path = argc > 2 ? argv[2] : "/out/die-features";
    FILE *in = fopen(in_path, "r");
    if (!in) { perror(in_path); return 1; }

    struct die *dies = malloc(sizeof *dies * MAX_DIES);
    if (!dies) { fputs("out of memory\n", stderr); return 1; }
    char buf[MAX_LINE];
    long line = 0, count = 0;
    while (fgets(buf, sizeof buf, in)) {
        line++;
        size_t len = strlen(buf);
        if (len && buf[len - 1] == '\n') buf[--len] = '\0';
        if (len && buf[len - 1] == '\r') buf[--len] = '\0';
        if (line == 1) {
            if (strcmp(buf, HEADER) != 0) fail(line, "unexpected header");
            continue;
        }
        if (len == 0) continue;
        if (count == MAX_DIES) fail(line, "too many dies");
        parse_row(buf, line, &dies[count++]);
    }
    fclose(in);
    if (count == 0) fail(line, "no dies");

    FILE *out = fopen(out_path, "w");
    if (!out) { perror(out_path); return 1; }
    fputs("lot,wafer,die_x,die_y,radius,zone,pass,fail_mode,leakage_na,vth_mv\n", out);
    /* Rows arrive grouped by wafer: find each wafer's grid extent, then emit its dies. */
    for (long start = 0; start < count;) {
        long end = start;
        int min_x = dies[start].x, max_x = min_x, min_y = dies[start].y, max_y = min_y;
        while (end < count && dies[end].wafer == dies[start].wafer && strcmp(dies[end].lot, dies[start].lot) == 0) {
            if (dies[end].x < min_x) min_x = dies[end].x;
            if (dies[end].x > max_x) max_x = dies[end].x;
            if (dies[end].y < min_y) min_y = dies[end].y;
            if (dies[end].y > max_y) max_y = dies[end].y;
            end++;
        }
        double cx = (min_x + max_x) / 2.0, cy = (min_y + max_y) / 2.0;
        double half = (max_x - min_x + 1) / 2.0;
        for (long i = start; i < end; i++) {
            const struct die *d = &dies[i];
            double dx = (d->x - cx) / half, dy = (d->y - cy) / half;
            double r = sqrt(dx * dx + dy * dy);
            static const char *modes[] = {"", "none", "leakage", "functional", "vth"};
            fprintf(out, "%s,%d,%d,%d,%.4f,%s,%d,%s,%.2f,%.1f\n", d->lot, d->wafer, d->x, d->y, r, zone_of(r),
                    d->bin == 1, modes[d->bin], d->leakage_na, d->vth_mv);
        }
        start = end;
    }
    if (fclose(out) != 0) { perror(out_path); return 1; }
    free(dies);
    return 0;
}
