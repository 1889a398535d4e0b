#!/usr/bin/env python3
"""Model benchmark: mesh facts + thumbnail of a >= 20 MB binary STL (>= 400k triangles), side by
side with trimesh's own load of the same file in the same run, medians of several runs.

Each measurement runs in a fresh process that has already imported what it needs (as the api
and the worker have), so its peak RSS growth is the work's own:
- `trimesh.load`      the reference: trimesh's own `load_mesh` of the file (what any reader pays)
- `facts`             printstash.formats.meshes.load + facts (what the upload answer waits for)
- `render`            printstash.formats.render.isometric_png of the loaded mesh
- `facts + render`    both, as the worker's library.model_thumbnail job or a small upload does
Wall time and CPU time (this process's own: on a busy machine, about what the wall time would
be on a quiet one) are both reported.

Run from the repository root:
    backend/.venv/bin/python bench/models/bench_models.py [--runs 5] [--rings 448]
The STL (a torus, rings x rings x 2 triangles; 448 gives 401,408 triangles, 20.1 MB) is written
to bench/data/ once. Prints a table and writes bench/results/models-<time>.json.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests"))

from harness import meshes  # noqa: E402

PY = REPO / "backend" / ".venv" / "bin" / "python"
DATA = REPO / "bench" / "data"
RESULTS = REPO / "bench" / "results"

WORKER = r"""
import json, resource, sys, time
from pathlib import Path
import trimesh
from printstash.formats import meshes, render
path, what = Path(sys.argv[1]), sys.argv[2]
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
out = {}
t, cpu = time.perf_counter(), time.process_time()
if what == "trimesh.load":
    with path.open("rb") as f:
        mesh = trimesh.load_mesh(f, file_type="stl")
    out["triangles"] = len(mesh.faces)
else:
    mesh = meshes.load(path, "stl")
    if what != "render":
        facts = meshes.facts(mesh)
        out["facts"] = [facts.triangles, list(facts.size_mm), facts.volume_mm3, facts.watertight]
    if what == "render":
        t, cpu = time.perf_counter(), time.process_time()  # the mesh is loaded: time the drawing alone
    if what != "facts":
        out["png_bytes"] = len(render.isometric_png(mesh.triangles))
out["seconds"] = time.perf_counter() - t
out["cpu_seconds"] = time.process_time() - cpu  # what a quiet machine's wall time would be, about
out["rss_growth_mib"] = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 1024
print(json.dumps(out))
"""
WHAT = ["trimesh.load", "facts", "render", "facts + render"]


def torus_stl(rings: int) -> Path:
    """A closed torus of rings x rings quads (2 triangles each), binary STL (tests/harness/meshes.py)."""
    path = DATA / f"torus_{rings}.stl"
    if path.exists():
        return path
    DATA.mkdir(parents=True, exist_ok=True)
    path.write_bytes(meshes.torus_stl(rings, b"printstash bench model: torus"))
    return path


def run_once(path: Path, what: str) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(REPO / "backend")}
    done = subprocess.run([str(PY), "-c", WORKER, str(path), what], capture_output=True, text=True, env=env,
                          check=True)
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--rings", type=int, default=448)
    args = parser.parse_args()
    path = torus_stl(args.rings)
    load_before = os.getloadavg()
    runs: dict[str, list[dict[str, Any]]] = {w: [] for w in WHAT}
    for _ in range(args.runs):  # interleaved, so machine noise falls on every column alike
        for what in WHAT:
            runs[what].append(run_once(path, what))
    load_after = os.getloadavg()
    summary = {w: {"median_s": statistics.median(r["seconds"] for r in rs),
                   "median_cpu_s": statistics.median(r["cpu_seconds"] for r in rs),
                   "median_rss_growth_mib": statistics.median(r["rss_growth_mib"] for r in rs)}
               for w, rs in runs.items()}
    reference = summary["trimesh.load"]["median_s"]
    print(f"{path.name}: {path.stat().st_size / 1e6:.1f} MB, {runs['trimesh.load'][0]['triangles']} triangles; "
          f"{args.runs} runs; load average {load_before[0]:.2f} -> {load_after[0]:.2f} (2 CPUs)")
    print(f"{'what':<16}{'median s':>10}{'CPU s':>8}{'x trimesh.load':>16}{'peak RSS growth MiB':>22}")
    for what, s in summary.items():
        print(f"{what:<16}{s['median_s']:>10.3f}{s['median_cpu_s']:>8.3f}{s['median_s'] / reference:>16.2f}"
              f"{s['median_rss_growth_mib']:>22.0f}")
    print("facts:", runs["facts"][0]["facts"])
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"models-{time.strftime('%Y%m%dT%H%M%S')}.json"
    out.write_text(json.dumps({"file": path.name, "bytes": path.stat().st_size, "runs": runs, "summary": summary,
                               "loadavg": [load_before, load_after]}, indent=2))
    print(f"wrote {out.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
