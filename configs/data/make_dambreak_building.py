#!/usr/bin/env python3
"""Generates the small input files of the bundled demo configs (run once).

dambreak_building_dem.asc / _depth.asc  (configs/dambreak_building.toml)
  A 400 m x 200 m valley (200 x 100 cells of 2 m) falling 0.5 % eastwards,
  with a parabolic cross-section; a building footprint as nodata cells (a
  wall) and a second building as a raised block. The initial depth fills the
  reservoir west of x = 100 m up to 14 m: the dam is removed at t = 0.

tidal_basin_dem.asc / _manning.asc / _rain.csv  (configs/tidal_basin.toml)
  A 300 m x 200 m basin (60 x 40 cells of 5 m) rising eastwards from a sea
  inlet on its west edge; Manning 0.03 in the channel, 0.06 on the banks;
  a rain hyetograph as CSV.

Usage: python3 configs/data/make_dambreak_building.py   (writes next to itself)
"""
import math
import os

HERE = os.path.dirname(os.path.abspath(__file__))


def fmt(v, digits):
    s = f"{v:.{digits}f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def write_asc(name, cols, rows, xll, yll, cell, value, digits=3, nodata=-9999):
    """value(col, row) with row 0 = north; None = nodata."""
    lines = [f"ncols {cols}", f"nrows {rows}", f"xllcorner {xll}", f"yllcorner {yll}",
             f"cellsize {cell}", f"NODATA_value {nodata}"]
    for row in range(rows):
        vals = []
        for col in range(cols):
            v = value(col, row)
            vals.append(str(nodata) if v is None else fmt(v, digits))
        lines.append(" ".join(vals))
    with open(os.path.join(HERE, name), "w") as f:
        f.write("\n".join(lines) + "\n")


def dambreak():
    cols, rows, cell, xll, yll = 200, 100, 2.0, 1000.0, 2000.0

    def centre(col, row):  # local coordinates of the cell centre (m)
        return (col + 0.5) * cell, (rows - row - 0.5) * cell

    def bed(col, row):
        x, y = centre(col, row)
        if 200 <= x <= 240 and 80 <= y <= 110:  # building footprint: outside the domain
            return None
        z = 10.0 - 0.005 * x + 0.0004 * (y - 100.0) ** 2
        if 280 <= x <= 300 and 120 <= y <= 140:  # raised building block
            z += 5.0
        return z

    write_asc("dambreak_building_dem.asc", cols, rows, xll, yll, cell, bed, digits=3)

    def depth(col, row):
        x, _ = centre(col, row)
        z = bed(col, row)
        if z is None or x >= 100.0:
            return 0.0
        return max(0.0, 14.0 - round(z, 3))

    write_asc("dambreak_building_depth.asc", cols, rows, xll, yll, cell, depth, digits=3)


def tidal_basin():
    cols, rows, cell, xll, yll = 60, 40, 5.0, 0.0, 0.0

    def centre(col, row):
        return (col + 0.5) * cell, (rows - row - 0.5) * cell

    def bed(col, row):
        x, y = centre(col, row)
        return 0.004 * x + 0.5 * (1.0 + math.cos(2 * math.pi * y / 200.0))

    def manning(col, row):
        _, y = centre(col, row)
        return 0.03 if 60 <= y <= 140 else 0.06

    write_asc("tidal_basin_dem.asc", cols, rows, xll, yll, cell, bed, digits=3)
    write_asc("tidal_basin_manning.asc", cols, rows, xll, yll, cell, manning, digits=3)
    with open(os.path.join(HERE, "tidal_basin_rain.csv"), "w") as f:
        f.write("# rain hyetograph for configs/tidal_basin.toml\n")
        f.write("time_s,rate_mm_per_h\n")
        for t, r in [(0, 0), (60, 20), (180, 60), (300, 30), (420, 0)]:
            f.write(f"{t},{r}\n")


if __name__ == "__main__":
    dambreak()
    tidal_basin()
