""".bgcode ingest through a real uvicorn against libbgcode's own `from_binary_to_ascii` on the
same file, in the same run. Target: PrintStash's throughput >= 80 % of libbgcode's; api RSS
growth < 128 MB.

Run from backend/:  uv run python ../bench/formats/bench_bgcode.py [--runs 5] [--source FILE.gcode]

The file: the big real PrusaSlicer 2.5 G-code of bench/ingest/make_big_gcode.py (350 MB by
default; run that script first) binarized by libbgcode's `from_ascii_to_binary` with its default
config, the one PrusaSlicer writes (heatshrink + MeatPack, CRC32 block checksums), the way
tests/harness/packages.py makes the test files. Written to bench/data/ (gitignored).

Each run, the two sides one after the other so machine noise hits both alike:
- libbgcode: `pybgcode.from_binary_to_ascii(in, out, verify_checksum=True)` into bench/data
  (the same filesystem), as PrintStash calls it; just the decode.
- PrintStash: a fresh `printstash serve` over a freshly migrated data dir, warmed with one
  small upload, then `curl -F` of the .bgcode to POST /api/v1/files: receive (SHA-256 on the
  way, fsync), the header check, one decode with every checksum verified, the full-file pass
  and the bounded parse of the decoded G-code, the store, the row. Checked: 201, kind bgcode,
  the sha256, no parse error, and the decoded G-code's layer count equal to the source file's
  own ;LAYER_CHANGE lines. Memory: VmHWM after the upload minus VmRSS before it.
Throughput is .bgcode bytes per second for both. Medians of --runs runs, with the load
average, printed and written to bench/results/bgcode.json.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BACKEND = REPO / "backend"
DATA = REPO / "bench" / "data"
RESULTS = REPO / "bench" / "results"
SOURCE = DATA / "big_prusa_wavyvase_0.15mm.gcode"
SMALL = REPO / "tests" / "fixtures" / "gcode" / "prusaslicer" / "prusa_cube20_0.20mm_PLA_thumbs.gcode"

sys.path.insert(0, str(BACKEND))
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "bench" / "ingest"))

import pybgcode  # noqa: E402
from bench_upload import curl_upload, free_port, fresh_vault, proc_kib, sha256_file, wait_up  # noqa: E402
from harness.packages import binarize  # noqa: E402

TARGET_RATIO = 0.80
LAYER_CHANGE = b"\n;LAYER_CHANGE\n"
RSS_LIMIT_MIB = 128


def bgcode_of(source: Path) -> Path:
    """The binarized copy of `source`, made once."""
    out = DATA / (source.stem + ".bgcode")
    if not out.exists() or out.stat().st_mtime < source.stat().st_mtime:
        started = time.perf_counter()
        binarize(source, out)
        print(f"binarized {source.name}: {source.stat().st_size / 1e6:.1f} MB -> "
              f"{out.stat().st_size / 1e6:.1f} MB in {time.perf_counter() - started:.1f} s", flush=True)
    return out


def total_layers(source: Path) -> int:
    """The ;LAYER_CHANGE lines PrusaSlicer wrote in the source file, counted here."""
    count, carry = 0, b""
    with source.open("rb") as fh:
        while chunk := fh.read(1 << 24):
            block = carry + chunk
            count += block.count(LAYER_CHANGE)
            carry = block[-(len(LAYER_CHANGE) - 1):]
    return count


def libbgcode_run(path: Path) -> float:
    out = DATA / "bgcode-decoded.gcode"
    started = time.perf_counter()
    infile, outfile = pybgcode.open(str(path), "rb"), pybgcode.open(str(out), "w")
    try:
        result = pybgcode.from_binary_to_ascii(infile, outfile, True)
    finally:
        pybgcode.close(infile)
        pybgcode.close(outfile)
    elapsed = time.perf_counter() - started
    assert result == pybgcode.EResult.Success, pybgcode.translate_result(result)
    out.unlink()
    return elapsed


def printstash_run(path: Path, sha: str, layers: int) -> dict[str, float]:
    data_dir = DATA / "vault-bgcode"
    key = fresh_vault(data_dir)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("VAULT_")}
    env.update(VAULT_DATA_DIR=str(data_dir), VAULT_LOG_LEVEL="WARNING")
    RESULTS.mkdir(parents=True, exist_ok=True)
    with (RESULTS / "bgcode-server.log").open("ab") as log:
        proc = subprocess.Popen([sys.executable, "-m", "printstash.cli", "serve", "--port", str(port)],
                                cwd=BACKEND, env=env, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            wait_up(base, proc)
            assert curl_upload(base, key, SMALL)[2] == 201  # imports and first-request costs out of the way
            rss_before = proc_kib(proc.pid, "VmRSS")
            elapsed, body, status, _ = curl_upload(base, key, path)
            hwm = proc_kib(proc.pid, "VmHWM")
        finally:
            proc.terminate()
            proc.wait(15)
    assert status == 201, (status, body)
    assert body["kind"] == "bgcode" and body["sha256"] == sha and body["parse_error"] is None, body
    assert body["metadata"].get("layer_count") == layers, (body["metadata"].get("layer_count"), layers)
    shutil.rmtree(data_dir, ignore_errors=True)
    return {"printstash_s": elapsed, "rss_growth_mib": (hwm - rss_before) / 1024}


def run_once(run: int, path: Path, sha: str, layers: int) -> dict[str, float]:
    row = {"libbgcode_s": libbgcode_run(path), **printstash_run(path, sha, layers), "load1": os.getloadavg()[0]}
    print(f"run {run + 1}: libbgcode {row['libbgcode_s']:.2f} s  PrintStash {row['printstash_s']:.2f} s  "
          f"ratio {row['libbgcode_s'] / row['printstash_s']:.0%}  rss +{row['rss_growth_mib']:.1f} MiB  "
          f"load {row['load1']:.1f}", flush=True)
    return row


def report(path: Path, source: Path, rows: list[dict[str, float]]) -> None:
    size = path.stat().st_size
    median = {key: statistics.median(row[key] for row in rows) for key in rows[0]}
    ratio = statistics.median(row["libbgcode_s"] / row["printstash_s"] for row in rows)
    ok = ratio >= TARGET_RATIO and max(row["rss_growth_mib"] for row in rows) < RSS_LIMIT_MIB
    print(f"\n{path.name}: {size / 1e6:.1f} MB .bgcode of {source.stat().st_size / 1e6:.1f} MB G-code; "
          f"medians of {len(rows)} runs; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    for label, key in (("libbgcode from_binary_to_ascii", "libbgcode_s"),
                       ("PrintStash upload (ingest)", "printstash_s")):
        print(f"| {label:<30} | {median[key]:.2f} s | {size / median[key] / 1e6:.0f} MB/s |")
    growth = max(row["rss_growth_mib"] for row in rows)
    print(f"PrintStash / libbgcode throughput: {ratio:.0%} (target >= {TARGET_RATIO:.0%}); api RSS growth "
          f"max {growth:.1f} MiB (target < {RSS_LIMIT_MIB}): {'met' if ok else 'NOT met'}")
    out = {"file": path.name, "bytes": size, "source_bytes": source.stat().st_size, "runs": rows, "median": median,
           "ratio": ratio, "met": ok, "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    (RESULTS / "bgcode.json").write_text(json.dumps(out, indent=1))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--source", type=Path, default=SOURCE, help="the big text G-code (>= 200 MB)")
    args = parser.parse_args()
    if not args.source.exists():
        sys.exit(f"{args.source} is missing: run `python3 bench/ingest/make_big_gcode.py` first")
    path = bgcode_of(args.source)
    sha, layers = sha256_file(path), total_layers(args.source)
    rows = [run_once(run, path, sha, layers) for run in range(args.runs)]
    report(path, args.source, rows)


if __name__ == "__main__":
    main()
