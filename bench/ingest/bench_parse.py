#!/usr/bin/env python3
"""Ingest benchmarks (a) and (b), side by side in one run, medians of several runs.

(a) bounded metadata parse of a big real-slicer file:
    PrintStash `printstash.gcode.parse(path)` in-process (timed inside a worker process that
    has already imported it, as the api has)  vs  Moonraker 0.11.0's metadata.py as Moonraker
    runs it: `python metadata.py -c cfg.json`, one subprocess per file (wall time of the
    subprocess, its peak RSS from wait4).
(b) the full-file pass `printstash.gcode.scan_file(path)`  vs  `cat FILE > /dev/null`, both
    from the page cache (the file is read once first).

Run from the repository root (uses backend/.venv and the Moonraker venv of the test harness):
    backend/.venv/bin/python bench/ingest/bench_parse.py [FILE] [--runs 7]
FILE defaults to the biggest bench/data/big_prusa_*.gcode (made by bench/ingest/make_big_gcode.py).
Prints a table and writes bench/results/parse-<time>.json.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
PY = REPO / "backend" / ".venv" / "bin" / "python"
RESULTS = REPO / "bench" / "results"

# Runs in a fresh process: import first (the api has it imported), then time the call only.
WORKER = r"""
import json, resource, sys, time
from pathlib import Path
from printstash.gcode import parse, scan_file
path, what = Path(sys.argv[1]), sys.argv[2]
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter()
if what == "parse":
    meta = parse(path); out = {"fields": len(meta.fields), "errors": meta.errors}
    out["seconds"] = time.perf_counter() - t  # first call of a fresh process (pessimistic)
    warm = []
    for _ in range(5):  # the api parses upload after upload: later calls in the same process
        t = time.perf_counter(); parse(path); warm.append(time.perf_counter() - t)
    out["warm_seconds"] = sorted(warm)[2]
elif what == "scan":
    facts = scan_file(path); out = {"facts": facts.fields}
    out["seconds"] = time.perf_counter() - t
else:  # ceilings for any pure-Python pass: read only, and read + the cheapest search (one byte)
    buf, n = bytearray(1 << 20), 0
    with path.open("rb", buffering=0) as fh:
        while got := fh.readinto(buf):
            n += buf.count(b"\n", 0, got) if what == "count" else 0
    out = {"seconds": time.perf_counter() - t, "lines": n}
out["rss_kib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
out["rss_before_kib"] = base
print(json.dumps(out))
"""


def run_child(cmd: list[str], **kw: Any) -> tuple[float, int, str]:
    """Wall time, peak RSS (KiB, from wait4) and stdout of one child process."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, **kw)
    out = proc.stdout.read() if proc.stdout else b""
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{cmd[:3]} failed")
    return wall, int(usage.ru_maxrss), out.decode()


def printstash(path: Path, what: str) -> dict[str, Any]:
    env = dict(os.environ, PYTHONPATH=str(REPO / "backend"))
    _, child_rss, out = run_child([str(PY), "-c", WORKER, str(path), what], env=env)
    result: dict[str, Any] = json.loads(out)
    result["rss_kib"] = max(result["rss_kib"], child_rss)
    return result


def moonraker_python() -> Path:
    sys.path.insert(0, str(REPO / "tests"))
    from harness.venvs import moonraker_python as venv_python  # the test harness's real Moonraker

    return venv_python()


def moonraker(py: Path, script: Path, path: Path, workdir: Path) -> dict[str, Any]:
    cfg = workdir / "cfg.json"
    cfg.write_text(json.dumps({"filename": path.name, "gcode_dir": str(path.parent), "check_objects": False}))
    wall, rss, out = run_child([str(py), str(script), "-c", str(cfg)])
    fields = json.loads(out)["metadata"]
    return {"seconds": wall, "rss_kib": rss, "fields": len(fields)}


def cat(path: Path) -> float:
    started = time.perf_counter()
    subprocess.run(["cat", str(path)], stdout=subprocess.DEVNULL, check=True)
    return time.perf_counter() - started


def med(values: list[float]) -> float:
    return statistics.median(values)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("file", nargs="?", type=Path)
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    big = args.file or max((REPO / "bench" / "data").glob("big_prusa_*.gcode"), key=lambda p: p.stat().st_size)
    size = big.stat().st_size
    py = moonraker_python()
    script = Path(subprocess.run([str(py), "-c", "import moonraker.components.file_manager.metadata as m;"
                                  "print(m.__file__)"], capture_output=True, text=True, check=True).stdout.strip())
    with tempfile.TemporaryDirectory(prefix="bench-parse-") as tmp:
        # Moonraker writes .thumbs/ beside the file: give it its own directory (a hard link, same inode).
        gdir = Path(tmp) / "gcodes"
        gdir.mkdir()
        target = gdir / big.name
        try:
            os.link(big, target)
        except OSError:
            shutil.copyfile(big, target)
        cat(big)  # warm the page cache
        rows: dict[str, list[dict[str, Any]]] = {"ps_parse": [], "moon": [], "ps_scan": [], "cat": [],
                                                 "py_read": [], "py_count": []}
        for _ in range(args.runs):  # interleaved, so machine noise hits both sides alike
            rows["ps_parse"].append(printstash(big, "parse"))
            rows["moon"].append(moonraker(py, script, target, Path(tmp)))
            rows["ps_scan"].append(printstash(big, "scan"))
            rows["cat"].append({"seconds": cat(big)})
            rows["py_read"].append(printstash(big, "read"))
            rows["py_count"].append(printstash(big, "count"))
    report = summarise(big, size, rows)
    print_table(report)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"parse-{time.strftime('%Y%m%dT%H%M%S')}.json"
    out.write_text(json.dumps({"report": report, "runs": rows}, indent=1))
    print(f"\nwrote {out}")
    return 0


def summarise(big: Path, size: int, rows: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    t = {k: med([r["seconds"] for r in v]) for k, v in rows.items()}
    t["ps_parse_warm"] = med([r["warm_seconds"] for r in rows["ps_parse"]])
    rss = {k: max(r.get("rss_kib", 0) for r in v) / 1024 for k, v in rows.items()}
    return {
        "file": str(big.relative_to(REPO)) if big.is_relative_to(REPO) else str(big), "size_mb": size / 1e6,
        "runs": len(rows["cat"]), "median_s": t, "peak_rss_mib": rss,
        "parse_speedup_vs_moonraker": t["moon"] / t["ps_parse"],
        "parse_speedup_warm": t["moon"] / t["ps_parse_warm"],
        "parse_fields": {"printstash": rows["ps_parse"][0]["fields"], "moonraker": rows["moon"][0]["fields"]},
        "scan_mb_s": size / t["ps_scan"] / 1e6, "cat_mb_s": size / t["cat"] / 1e6,
        "scan_share_of_cat": t["cat"] / t["ps_scan"],
        "py_read_mb_s": size / t["py_read"] / 1e6, "py_count_mb_s": size / t["py_count"] / 1e6,
        "scan_facts": rows["ps_scan"][0]["facts"],
    }


def print_table(r: dict[str, Any]) -> None:
    t, rss = r["median_s"], r["peak_rss_mib"]
    print(f"file {r['file']}  {r['size_mb']:.1f} MB  median of {r['runs']} runs\n")
    print(f"{'(a) bounded metadata parse':44s} {'median s':>9s} {'peak RSS MiB':>13s} {'fields':>7s}")
    print(f"{'PrintStash parse(), 1st call of a process':44s} {t['ps_parse']:9.4f} {rss['ps_parse']:13.1f} "
          f"{r['parse_fields']['printstash']:7d}")
    print(f"{'PrintStash parse(), later calls (api)':44s} {t['ps_parse_warm']:9.4f}")
    print(f"{'Moonraker 0.11.0 metadata.py subprocess':44s} {t['moon']:9.4f} {rss['moon']:13.1f} "
          f"{r['parse_fields']['moonraker']:7d}")
    print(f"{'speed-up, 1st call / later calls (target >= 3x)':44s} {r['parse_speedup_vs_moonraker']:9.1f}x"
          f" / {r['parse_speedup_warm']:.1f}x\n")
    print(f"{'(b) full-file pass':44s} {'median s':>9s} {'MB/s':>9s} {'peak RSS MiB':>13s}")
    print(f"{'PrintStash scan_file() (mapped windows)':44s} {t['ps_scan']:9.4f} {r['scan_mb_s']:9.0f} "
          f"{rss['ps_scan']:13.1f}")
    print(f"{'cat FILE > /dev/null':44s} {t['cat']:9.4f} {r['cat_mb_s']:9.0f}")
    print(f"{'Python readinto, no search':44s} {t['py_read']:9.4f} {r['py_read_mb_s']:9.0f}")
    print(f"{'Python readinto + bytearray.count(newline)':44s} {t['py_count']:9.4f} {r['py_count_mb_s']:9.0f}")
    print(f"{'share of cat throughput (target >= 50%)':44s} {100 * r['scan_share_of_cat']:8.0f}%")
    print(f"facts: {r['scan_facts']}")


if __name__ == "__main__":
    sys.exit(main())
