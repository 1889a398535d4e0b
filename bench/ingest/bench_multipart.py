"""Which multipart parser should drive the upload: python-multipart (hand-driven callbacks, what
library/upload.py uses) or streaming-form-data (a Cython parser with targets)?

Run from backend/ (streaming-form-data is not a dependency; install it into the venv first):
    uv pip install streaming-form-data==2.1.0
    uv run python ../bench/ingest/bench_multipart.py [--runs 5] [--mb 200] [--chunk 262144]

The body is the same G-code file as bench_upload.py's (a real PrusaSlicer fixture's layers),
framed as curl -F frames it, held in memory and fed in chunks of --chunk bytes (uvloop hands
uvicorn up to 256 KiB per read). Variants, in the same run, interleaved, medians:
- parse only: each parser hands the file part's bytes to a target that only keeps them
  (CPU of the framing itself);
- with file, hash, scan: PrintStash's path (python-multipart + core/fastio.write_stream:
  write on one thread, SHA-256 + G-code scan on the other); streaming-form-data's
  FileTarget, SHA256Target and a scan target registered for the part, as its docs show it; and
  streaming-form-data's parser feeding the same write_stream.
Every variant's output is checked: the file's bytes (size and SHA-256) and the scan's layer count.
"""

import argparse
import asyncio
import hashlib
import os
import statistics
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_upload import DATA, RESULTS, build_file  # noqa: E402

from printstash import gcode  # noqa: E402
from printstash.core import fastio  # noqa: E402
from printstash.library.upload import BATCH_BYTES, _Form  # noqa: E402

BOUNDARY = b"------------------------bench0123456789"


def body_chunks(big: Path, chunk: int) -> list[bytes]:
    head = (b"--" + BOUNDARY + b"\r\nContent-Disposition: form-data; name=\"file\"; filename=\"big.gcode\"\r\n"
            b"Content-Type: application/octet-stream\r\n\r\n")
    body = head + big.read_bytes() + b"\r\n--" + BOUNDARY + b"--\r\n"
    return [body[i:i + chunk] for i in range(0, len(body), chunk)]


def headers(length: int) -> dict[str, str]:
    return {"content-type": f"multipart/form-data; boundary={BOUNDARY.decode()}", "content-length": str(length)}


# ---- parse only ------------------------------------------------------------------------------

def pm_parse_only(chunks: list[bytes]) -> int:
    form = _Form(BOUNDARY)
    size = 0
    for chunk in chunks:
        form.write(chunk)
        if form.pending_size >= BATCH_BYTES:
            size += sum(map(len, form.take()))
    form.finalize()
    return size + sum(map(len, form.take()))


def sfd_parse_only(chunks: list[bytes]) -> int:
    from streaming_form_data import StreamingFormDataParser
    from streaming_form_data.targets import BaseTarget

    class Keep(BaseTarget):  # type: ignore[misc]
        size = 0

        def on_data_received(self, chunk: bytes) -> None:
            self.size += len(chunk)

    parser = StreamingFormDataParser(headers(sum(map(len, chunks))))
    target = Keep()
    parser.register("file", target)
    for chunk in chunks:
        parser.data_received(chunk)
    return target.size


# ---- with file, hash and scan -------------------------------------------------------------------

async def _aiter(chunks: list[bytes], feed: Callable[[bytes], None], take: Callable[[], fastio.Batch],
                 pending: Callable[[], int]) -> AsyncIterator[fastio.Batch]:
    for chunk in chunks:
        feed(chunk)
        if pending() >= BATCH_BYTES:
            yield take()
            await asyncio.sleep(0)  # as if the next chunk came from the socket
    if pending():
        yield take()


def pm_pipeline(chunks: list[bytes], out: Path) -> tuple[str, int, Any]:
    form = _Form(BOUNDARY)
    return _pipeline(_aiter(chunks, form.write, form.take, lambda: form.pending_size), out)


def sfd_pipeline(chunks: list[bytes], out: Path) -> tuple[str, int, Any]:
    from streaming_form_data import StreamingFormDataParser
    from streaming_form_data.targets import BaseTarget

    class Pending(BaseTarget):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__()
            self.batch: fastio.Batch = []
            self.size = 0

        def on_data_received(self, chunk: bytes) -> None:
            self.batch.append(chunk)
            self.size += len(chunk)

        def take(self) -> fastio.Batch:
            batch, self.batch, self.size = self.batch, [], 0
            return batch

    parser = StreamingFormDataParser(headers(sum(map(len, chunks))))
    target = Pending()
    parser.register("file", target)
    return _pipeline(_aiter(chunks, parser.data_received, target.take, lambda: target.size), out)


def _pipeline(batches: AsyncIterator[fastio.Batch], out: Path) -> tuple[str, int, Any]:
    scan = gcode.FullScan()
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        written = asyncio.run(fastio.write_stream(batches, fd, scan.feed))
    finally:
        os.close(fd)
    return written.sha256, written.size, scan.finish().fields.get("layer_count")


def sfd_targets(chunks: list[bytes], out: Path) -> tuple[str, int, Any]:
    from streaming_form_data import StreamingFormDataParser
    from streaming_form_data.targets import BaseTarget, FileTarget, SHA256Target

    scan = gcode.FullScan()

    class ScanTarget(BaseTarget):  # type: ignore[misc]
        def on_data_received(self, chunk: bytes) -> None:
            scan.feed(chunk)

    sha = SHA256Target()
    parser = StreamingFormDataParser(headers(sum(map(len, chunks))))
    for target in (FileTarget(str(out)), sha, ScanTarget()):  # several targets of one part
        parser.register("file", target)
    for chunk in chunks:
        parser.data_received(chunk)
    with out.open("rb+") as fh:
        os.fsync(fh.fileno())
    return sha.value, out.stat().st_size, scan.finish().fields.get("layer_count")


def timed(func: Callable[..., Any], *args: Any) -> tuple[float, float, Any]:
    """(wall s, CPU s of this process, result)"""
    cpu, wall = time.process_time(), time.perf_counter()
    result = func(*args)
    return time.perf_counter() - wall, time.process_time() - cpu, result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--mb", type=int, default=200)
    parser.add_argument("--chunk", type=int, default=256 * 1024)
    args = parser.parse_args()
    big, layers = build_file(args.mb)
    data = big.read_bytes()
    want = (hashlib.sha256(data).hexdigest(), len(data), layers)
    del data
    chunks = body_chunks(big, args.chunk)
    out = DATA / "multipart-target.gcode"
    variants: dict[str, Callable[[], Any]] = {
        "parse only: python-multipart": lambda: pm_parse_only(chunks),
        "parse only: streaming-form-data": lambda: sfd_parse_only(chunks),
        "file+hash+scan: python-multipart + fastio.write_stream (PrintStash)": lambda: pm_pipeline(chunks, out),
        "file+hash+scan: streaming-form-data + fastio.write_stream": lambda: sfd_pipeline(chunks, out),
        "file+hash+scan: streaming-form-data targets (File, SHA256, scan)": lambda: sfd_targets(chunks, out),
    }
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in variants}
    for run in range(args.runs):
        for name, func in variants.items():
            wall, cpu, result = timed(func)
            expected = want[1] if name.startswith("parse only") else want
            assert result == expected, (name, result, expected)
            times[name].append((wall, cpu))
        print(f"run {run + 1} done (load {os.getloadavg()[0]:.1f})", flush=True)
    out.unlink(missing_ok=True)
    mb = want[1] / 1e6
    print(f"\n{big.name}, {mb:.1f} MB in {args.chunk // 1024} KiB chunks; medians of {args.runs}; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"{'variant':<70} {'wall s':>7} {'CPU s':>7} {'MB/s':>7}")
    rows = {}
    for name, samples in times.items():
        wall = statistics.median(s[0] for s in samples)
        cpu = statistics.median(s[1] for s in samples)
        rows[name] = {"wall_s": wall, "cpu_s": cpu}
        print(f"{name:<70} {wall:7.3f} {cpu:7.3f} {mb / wall:7.0f}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    import json
    (RESULTS / "multipart.json").write_text(json.dumps({"file": big.name, "bytes": want[1], "chunk": args.chunk,
                                                        "runs": args.runs, "median": rows}, indent=2))


if __name__ == "__main__":
    main()
