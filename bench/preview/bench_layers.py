"""Benchmark: the preview's layer endpoint on a big real-slicer file, through a real uvicorn.

Run from backend/:
    uv run python ../bench/preview/bench_layers.py [--file FILE] [--runs 5] [--requests 200]

FILE defaults to bench/data/big_prusa_wavyvase_0.15mm.gcode (`python3 bench/ingest/make_big_gcode.py`
makes it: PrusaSlicer 2.5, about 350 MB, 1000 layers). A fresh `printstash serve` (uvicorn,
httptools + uvloop) on a free loopback port over a freshly migrated data dir receives the file
(curl -F, the normal upload: the layer index is built by the upload's full-file pass), then
each run asks for --requests layers picked at random (a new seed per run; first and last layer
always in) with no If-None-Match, one at a time on a keep-alive connection, as a viewer
scrubbing the slider does, and checks each answer (200, a whole number of 28-byte records,
X-Layer-Count). The same layers are then decoded in-process and their CPU time taken (read +
decode, no HTTP): the server's own cost, which a shared machine's load does not inflate as much.
Side by side in the same run, what a viewer that loads the whole file needs before it can draw
anything: GET /files/{id}/gcode of the same file from the same server.
Medians over runs of each run's p50/p95/max; the load average is printed with them (the
machine is shared). Results also go to bench/results/preview.json.
"""

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
DEFAULT_FILE = REPO / "bench" / "data" / "big_prusa_wavyvase_0.15mm.gcode"
RESULTS = REPO / "bench" / "results"
DATA = REPO / "bench" / "data"  # the vault goes here (gitignored, on the disk the file is on)
RECORD_SIZE = 28

sys.path.insert(0, str(REPO / "tests"))

import httpx  # noqa: E402
from harness.processes import live_api  # noqa: E402
from harness.vault import add_user_with_key, make_settings, migrate  # noqa: E402


def upload(base: str, key: str, path: Path) -> tuple[dict[str, Any], float]:
    start = time.perf_counter()
    out = subprocess.run(["curl", "-sS", "-H", f"X-Api-Key: {key}", "-F", f"file=@{path}",
                          f"{base}/api/v1/files"], check=True, capture_output=True, text=True).stdout
    body: dict[str, Any] = json.loads(out)
    return body, time.perf_counter() - start


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def one_run(client: httpx.Client, file_id: int, count: int, requests: int, seed: int) -> dict[str, float]:
    rng = random.Random(seed)
    picks = [0, count - 1] + [rng.randrange(count) for _ in range(requests - 2)]
    times, sizes = [], []
    for index in picks:
        start = time.perf_counter()
        answer = client.get(f"/api/v1/files/{file_id}/layers/{index}")
        times.append(time.perf_counter() - start)
        assert answer.status_code == 200, answer.text
        assert len(answer.content) % RECORD_SIZE == 0 and int(answer.headers["x-layer-count"]) == count
        sizes.append(len(answer.content))
    return {"p50_ms": percentile(times, 0.5) * 1e3, "p95_ms": percentile(times, 0.95) * 1e3,
            "max_ms": max(times) * 1e3, "mean_kb": statistics.mean(sizes) / 1e3}


def decode_cpu(path: Path, requests: int, seed: int) -> dict[str, float]:
    """The server's own work per layer, in-process CPU time (read + decode, no HTTP): what the
    wall times above cost when the machine is not shared."""
    from printstash import gcode

    index = gcode.build_index(path, gcode.scan_file(path).layers)
    count, rng = len(index.layers), random.Random(seed)

    def read(start: int, end: int) -> bytes:
        with path.open("rb") as fh:
            fh.seek(start)
            return fh.read(end - start)

    times = []
    for number in [0, count - 1] + [rng.randrange(count) for _ in range(requests - 2)]:
        start = time.process_time()
        gcode.layer_segments(index, number, read)
        times.append(time.process_time() - start)
    return {"cpu_p50_ms": percentile(times, 0.5) * 1e3, "cpu_p95_ms": percentile(times, 0.95) * 1e3}


def whole_file(client: httpx.Client, file_id: int) -> float:
    start = time.perf_counter()
    size = 0
    with client.stream("GET", f"/api/v1/files/{file_id}/gcode") as answer:
        for chunk in answer.iter_bytes():
            size += len(chunk)
    assert answer.status_code == 200 and size > 0
    return time.perf_counter() - start


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--file", type=Path, default=DEFAULT_FILE)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--requests", type=int, default=200)
    args = ap.parse_args()
    if not args.file.exists():
        print(f"{args.file} is missing: python3 bench/ingest/make_big_gcode.py makes it", file=sys.stderr)
        return 2
    DATA.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="ps-bench-preview-", dir=DATA) as tmp:
        settings = make_settings(Path(tmp) / "data")
        migrate(settings)
        key = add_user_with_key(settings, "bench", "admin")
        with live_api(settings.data_dir) as base, httpx.Client(base_url=base, headers={"X-Api-Key": key},
                                                               timeout=600) as client:
            body, upload_s = upload(base, key, args.file)
            index = client.get(f"/api/v1/files/{body['id']}/layers").json()
            count = index["count"]
            runs, wholes = [], []
            for run in range(args.runs):
                runs.append(one_run(client, body["id"], count, args.requests, seed=run)
                            | decode_cpu(args.file, args.requests, seed=run))
                wholes.append(whole_file(client, body["id"]))
    result = {"file": args.file.name, "size_mb": round(args.file.stat().st_size / 1e6, 1), "layers": count,
              "upload_s": round(upload_s, 2), "runs": args.runs, "requests_per_run": args.requests,
              "loadavg": [round(v, 2) for v in os.getloadavg()],
              **{k: round(statistics.median(r[k] for r in runs), 2) for k in runs[0]},
              "whole_file_s": round(statistics.median(wholes), 3)}
    result["whole_file_over_p95"] = round(result["whole_file_s"] * 1e3 / result["p95_ms"], 1)
    print(f"{result['file']}: {result['size_mb']} MB, {count} layers, upload (index included) {upload_s:.1f} s")
    print("| what | median of runs |\n| --- | --- |")
    for name in ("p50_ms", "p95_ms", "max_ms", "cpu_p50_ms", "cpu_p95_ms", "mean_kb", "whole_file_s",
                 "whole_file_over_p95"):
        print(f"| {name} | {result[name]} |")
    print(f"load average {result['loadavg']}, {args.runs} runs x {args.requests} layers")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "preview.json").write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
