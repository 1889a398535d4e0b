#!/usr/bin/env python3
"""Make the big real-slicer G-code file for the ingest benchmarks (not committed).

Adapted from the peers' make_gcode_corpus (the "large_prusa_wavyvase" job): a lobed, twisted
vase STL is generated here, then sliced by the real PrusaSlicer 2.5 from Debian
(`apt-get install prusa-slicer` when missing; needs root). Output: bench/data/<name>.gcode.

    python3 bench/ingest/make_big_gcode.py [--layer-height 0.15] [--min-mb 250]
    python3 bench/ingest/make_big_gcode.py --tools 2 --layer-height 0.30 --min-mb 150   # multi-tool
"""

import argparse
import math
import shutil
import struct
import subprocess
import sys
from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "data"
Point = tuple[float, float, float]
Triangle = tuple[Point, Point, Point]


def wavy_vase(r: float, h: float, segments: int = 360, rings: int = 200) -> list[Triangle]:
    """Closed solid with unique perimeter geometry on every layer: lots of G-code per layer."""
    grid: list[list[Point]] = []
    for k in range(rings + 1):
        z, twist = h * k / rings, 1.5 * math.pi * k / rings
        scale = 0.75 + 0.25 * math.cos(math.pi * k / rings)
        grid.append([_ring_point(r, z, 2 * math.pi * i / segments, twist, scale) for i in range(segments)])
    tris: list[Triangle] = []
    for k in range(rings):
        for i in range(segments):
            j = (i + 1) % segments
            tris += [(grid[k][i], grid[k][j], grid[k + 1][j]), (grid[k][i], grid[k + 1][j], grid[k + 1][i])]
    bottom, top = (0.0, 0.0, 0.0), (0.0, 0.0, h)
    for i in range(segments):
        j = (i + 1) % segments
        tris += [(bottom, grid[0][j], grid[0][i]), (top, grid[-1][i], grid[-1][j])]
    return tris


def _ring_point(r: float, z: float, a: float, twist: float, scale: float) -> Point:
    rr = r * (1 + 0.12 * math.sin(7 * a + twist)) * scale
    return (rr * math.cos(a), rr * math.sin(a), z)


def write_stl(path: Path, tris: list[Triangle]) -> None:
    with path.open("wb") as fh:
        fh.write(b"printstash bench model: wavy vase".ljust(80, b" "))
        fh.write(struct.pack("<I", len(tris)))
        for a, b, c in tris:
            fh.write(struct.pack("<12fH", 0.0, 0.0, 0.0, *a, *b, *c, 0))


def slice_cmd(stl: Path, out: Path, layer_height: float, tools: int) -> list[str]:
    settings: dict[str, object] = {
        "layer-height": layer_height, "first-layer-height": 0.2, "nozzle-diameter": 0.4,
        "filament-type": "PLA", "temperature": 210, "first-layer-temperature": 215,
        "bed-temperature": 60, "first-layer-bed-temperature": 60, "filament-diameter": 1.75,
        "filament-density": 1.24, "fill-density": "30%", "fill-pattern": "gyroid", "perimeters": 3,
        "gcode-flavor": "marlin2", "center": "125,125", "bed-shape": "0x0,250x0,250x250,0x250",
        "max-print-height": 250, "gcode-label-objects": None}
    if tools == 2:  # perimeters with tool 1 (PLA), infill with tool 2 (PETG): a switch every layer
        settings.update({"first-layer-height": layer_height, "nozzle-diameter": "0.4,0.4",
                         "filament-type": "PLA;PETG", "temperature": "215,240",
                         "first-layer-temperature": "215,240", "bed-temperature": "60,60",
                         "first-layer-bed-temperature": "60,60", "filament-diameter": "1.75,1.75",
                         "filament-density": "1.24,1.27", "perimeter-extruder": 1, "infill-extruder": 2,
                         "solid-infill-extruder": 2})
    cmd = ["prusa-slicer", "--export-gcode"]
    for key, value in settings.items():
        cmd += [f"--{key}"] if value is None else [f"--{key}", str(value)]
    return [*cmd, "-o", str(out), str(stl)]


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--layer-height", type=float, default=0.15)
    ap.add_argument("--min-mb", type=float, default=250)
    ap.add_argument("--tools", type=int, choices=(1, 2), default=1)
    args = ap.parse_args()
    if shutil.which("prusa-slicer") is None:
        subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", "prusa-slicer"], check=True)
    DATA.mkdir(parents=True, exist_ok=True)
    stl = DATA / "wavy_vase_r70_h150.stl"
    write_stl(stl, wavy_vase(70, 150))
    kind = "big_prusa_wavyvase" if args.tools == 1 else "big_2tools_wavyvase"
    out = DATA / f"{kind}_{args.layer_height:.2f}mm.gcode"
    subprocess.run(slice_cmd(stl, out, args.layer_height, args.tools), check=True)
    size_mb = out.stat().st_size / 1e6
    print(f"{out}  {size_mb:.1f} MB")
    return 0 if size_mb >= args.min_mb else 1


if __name__ == "__main__":
    sys.exit(main())
