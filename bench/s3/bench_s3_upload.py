"""Benchmark: a >= 200 MB G-code upload into S3 (moto in server mode on loopback) through a
real `printstash serve` with VAULT_STORAGE=s3, end to end (HTTP body -> tmp/.part hashed and
scanned -> parse while the create-only multipart upload runs -> row), side by side in the same run with
a plain boto3 `upload_file` of the same file by the same client configuration (core/s3.py's
client settings and TransferConfig) into the same bucket. Each side starts from an empty
bucket and a settled disk (os.sync) and goes first every other run; medians.

Run from backend/:  uv run python ../bench/s3/bench_s3_upload.py [--runs 3] [--mb 200]

The file is bench/ingest/bench_upload.py's real-PrusaSlicer-based G-code (bench/data/,
gitignored). Each PrintStash run uploads a variant with a different last comment line, so
every run stores new content (no duplicate short-cut). Results: a table and
bench/results/s3_upload.json.

Beside the ratio, what bounds it: the api log's split of each upload (the body received,
hashed and scanned into the .part; then stored: the object upload with the parse beside it,
and the row), and the receive's floor in this run: the SHA-256 and the G-code scan of the same
file in memory, on one thread, as the api's digest thread does them while the body arrives.
The issue's design sends the object only once the body is in and its hash (the key) known,
so PrintStash's time is at least that floor plus an upload.
"""

import argparse
import hashlib
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "backend"))
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "bench" / "ingest"))

from bench_upload import SOURCE, build_file  # noqa: E402
from harness.processes import free_port, printstash, stop, vault_env, wait_http  # noqa: E402
from harness.s3 import moto_s3  # noqa: E402
from harness.vault import add_user_with_key, migrate  # noqa: E402

from printstash.core.s3 import TRANSFER, S3Storage  # noqa: E402
from printstash.gcode.fullscan import FullScan  # noqa: E402

RESULTS = REPO / "bench" / "results"
PIECE = 1 << 20  # the api's body batches are up to 1 MiB (core/httpserver.py BODY_HIGH_WATER)
# library/upload.py's line for each upload
UPLOAD_LOG = re.compile(r"upload '[^']*_s3_\d+\.gcode': \d+ bytes in [\d.]+s "
                        r"\(body ([\d.]+)s incl\. fsync [\d.]+s; dedupe\+parse\+insert ([\d.]+)s\)")


def variant(src: Path, run: int) -> Path:
    out = src.with_name(f"{src.stem}_s3_{run}.gcode")
    shutil.copyfile(src, out)
    with out.open("ab") as fh:
        fh.write(f"; bench run {run}\n".encode())
    return out


def receive_floor(path: Path, runs: int = 3) -> float:
    """Seconds to SHA-256 and scan the file's bytes in memory on one thread (median of runs)."""
    data = path.read_bytes()
    pieces = [data[i:i + PIECE] for i in range(0, len(data), PIECE)]
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        sha, scan = hashlib.sha256(), FullScan()
        for piece in pieces:
            sha.update(piece)
            scan.feed(piece)
        scan.finish()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def upload_through_printstash(base: str, key: str, path: Path) -> float:
    started = time.perf_counter()
    out = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-H", f"X-Api-Key: {key}",
                          "-F", f"file=@{path}", f"{base}/api/v1/files"], capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - started
    assert out.stdout == "201", out.stdout
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--mb", type=int, default=200)
    args = parser.parse_args()
    source, _ = build_file(args.mb)
    floor = receive_floor(source)
    ours: list[float] = []
    plain: list[float] = []
    with moto_s3() as moto:
        bucket = moto.new_bucket()
        data_dir = REPO / "bench" / "data" / "s3_vault"
        shutil.rmtree(data_dir, ignore_errors=True)
        settings = moto.settings(data_dir, bucket)
        migrate(settings)
        key = add_user_with_key(settings, "bench", "admin")
        client = S3Storage.from_settings(settings).client
        port = free_port()
        proc = printstash("serve", "--port", str(port), env=vault_env(data_dir, **moto.env(bucket)))
        try:
            base = f"http://127.0.0.1:{port}"
            wait_http(f"{base}/api/v1/health/live")
            # imports, the parser's and the S3 client's first-use costs out of the way, as
            # bench/ingest/bench_upload.py does: the first big upload paid ~1 s more for them
            upload_through_printstash(base, key, SOURCE)
            for run in range(args.runs):
                path = variant(source, run)
                sha = hashlib.sha256(path.read_bytes()).hexdigest()
                stored = f"files/{sha[:2]}/{sha}"

                def plain_upload(run: int = run, path: Path = path) -> float:
                    started = time.perf_counter()
                    client.upload_file(str(path), bucket, f"plain/{run}", Config=TRANSFER)
                    return time.perf_counter() - started

                try:
                    # Both sides start from the same server and disk: an empty bucket (moto slowed
                    # whichever upload came second by 0.2-0.3 s while it held the first's 200 MB)
                    # and a settled disk (os.sync: the variant just written, moto's spool files);
                    # each side goes first every other run.
                    for side in (("plain", "ours") if run % 2 == 0 else ("ours", "plain")):
                        os.sync()
                        if side == "plain":
                            plain.append(plain_upload())
                            moto.client().delete_object(Bucket=bucket, Key=f"plain/{run}")
                        else:
                            ours.append(upload_through_printstash(base, key, path))
                            assert moto.client().head_object(Bucket=bucket, Key=stored)
                            moto.client().delete_object(Bucket=bucket, Key=stored)
                finally:
                    path.unlink()
                print(f"run {run + 1}: printstash {ours[-1]:.2f}s, plain upload_file {plain[-1]:.2f}s", flush=True)
        finally:
            log = stop(proc)
            shutil.rmtree(data_dir, ignore_errors=True)
    split = [(float(body), float(rest)) for body, rest in UPLOAD_LOG.findall(log)]
    size = source.stat().st_size
    result = {"bytes": size, "runs": args.runs, "printstash_s": statistics.median(ours),
              "upload_file_s": statistics.median(plain), "load_average": os.getloadavg()}
    result["ratio"] = result["upload_file_s"] / result["printstash_s"]
    result["per_run_ratios"] = [p / o for p, o in zip(plain, ours, strict=True)]
    result["receive_floor_s"] = floor
    result["ratio_ceiling"] = result["upload_file_s"] / (result["upload_file_s"] + floor)
    if split:
        result["api_body_s"] = statistics.median(body for body, _ in split)
        result["api_store_s"] = statistics.median(rest for _, rest in split)
        print(f"api log, medians of {len(split)}: body in {result['api_body_s']:.2f} s, then stored "
              f"(upload with the parse beside it, row) in {result['api_store_s']:.2f} s")
    print(f"the receive's SHA-256 + scan on one thread: {floor:.2f} s; with upload_file's "
          f"{result['upload_file_s']:.2f} s after it the ratio cannot pass {100 * result['ratio_ceiling']:.0f} %")
    print(f"per-run ratios {', '.join(f'{r:.0%}' for r in result['per_run_ratios'])}; "
          f"load average {result['load_average'][0]:.1f}")
    print(f"| {size / 1e6:.0f} MB into moto | PrintStash end to end | plain upload_file | throughput ratio |")
    print(f"| median of {args.runs} | {result['printstash_s']:.2f} s | {result['upload_file_s']:.2f} s "
          f"| {100 * result['ratio']:.0f} % |")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "s3_upload.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
