#!/usr/bin/env python3
"""Generates Examples/two-party/data/wafer-maps.csv: the fab's raw wafer-sort results.

Deterministic (fixed seed, only random.random()), so the committed file can be regenerated
bit for bit:  python3 make-wafer-maps.py > wafer-maps.csv

Columns: lot, wafer, die_x, die_y, bin (1 = pass; 2 = leakage fail; 3 = functional fail;
4 = parametric Vth fail), leakage_na, vth_mv, probe_card (the fab's tooling: confidential,
dropped by the fab's own parser before anything reaches the designer's model).
Each lot has its own defect density and a ring of edge degradation, as real sort data does.
"""
import math
import random

SEED = 20240611
LOTS = [("L2406A", 0.08), ("L2406B", 0.15), ("L2407A", 0.05), ("L2407C", 0.22)]  # (lot, defects per cm^2)
WAFERS_PER_LOT = 5
GRID = 17            # dies per row/column of the stepper grid; dies outside the circle are skipped
DIE_AREA_CM2 = 0.42  # die area the defect model uses


def main():
    rng = random.Random(SEED)
    print("lot,wafer,die_x,die_y,bin,leakage_na,vth_mv,probe_card")
    for lot, density in LOTS:
        for wafer in range(1, WAFERS_PER_LOT + 1):
            card = "PC-%02d" % (1 + int(rng.random() * 12))
            wafer_shift = (rng.random() - 0.5) * 20.0
            for y in range(GRID):
                for x in range(GRID):
                    dx, dy = (x - GRID // 2) / (GRID / 2), (y - GRID // 2) / (GRID / 2)
                    r = math.sqrt(dx * dx + dy * dy)
                    if r > 1.0:
                        continue
                    edge = max(0.0, r - 0.75) * 4.0       # 0 in the centre, up to 1 at the rim
                    p_defect = 1.0 - math.exp(-density * DIE_AREA_CM2 * (1.0 + 2.5 * edge))
                    leakage = 40.0 + 25.0 * edge + 30.0 * rng.random() * rng.random()
                    vth = 410.0 + wafer_shift + 35.0 * (rng.random() - 0.5) + 15.0 * edge
                    u = rng.random()
                    if u < p_defect:
                        die_bin = 3
                    elif leakage > 88.0:
                        die_bin = 2
                    elif vth < 392.0 or vth > 438.0:
                        die_bin = 4
                    else:
                        die_bin = 1
                    print("%s,%d,%d,%d,%d,%.2f,%.1f,%s" % (lot, wafer, x, y, die_bin, leakage, vth, card))


if __name__ == "__main__":
    main()
