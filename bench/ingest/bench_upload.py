"""Benchmark (c): a 500 MB G-code upload through a real uvicorn on loopback vs Moonraker 0.11.0,
the bare-uvicorn floor and `cp`.

Run from backend/:  uv run python ../bench/ingest/bench_upload.py [--runs 3] [--mb 500] [--no-moonraker]

The 500 MB file is built from a REAL PrusaSlicer 2.5 fixture
(tests/fixtures/gcode/prusaslicer/prusa_cylinder_0.15mm_PETG_thumbs.gcode): its header and
thumbnails, its layer section (every ;LAYER_CHANGE up to the last one) repeated until the
size is reached, then its real last layer and footer. It is written to bench/data/ (gitignored).

Each upload run starts a fresh `printstash serve` (uvicorn, httptools + uvloop) on a free
loopback port over a freshly migrated data dir (same filesystem as the file and the cp
target), warms it up with one small upload, then sends the big file with curl -F (multipart,
streamed from disk) and checks: 201, the sha256, and the full-file layer count computed on
the upload path. Server memory: VmHWM after the upload minus VmRSS before it.
References in the same run: `cp FILE DEST`, `dd bs=4M conv=fsync` (cp plus the fsync the
upload also does) and the HTTP floor (the same curl to the same uvicorn serving an ASGI app
that only drains the body, and the same on the api's own HTTP protocol), and the peer: real
Moonraker 0.11.0 (started by the test harness,
tests/harness/peers.py, without Klippy: uploads do not need it) receiving the same file with
the same curl -F at `POST /server/files/upload`; its 201 comes after it stored the file and
extracted its metadata, like PrintStash's. Medians of --runs runs, printed as a table and
written to bench/results/upload.json.
"""

import argparse
import hashlib
import json
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
BACKEND = REPO / "backend"
DATA = REPO / "bench" / "data"
RESULTS = REPO / "bench" / "results"
SOURCE = REPO / "tests" / "fixtures" / "gcode" / "prusaslicer" / "prusa_cylinder_0.15mm_PETG_thumbs.gcode"
MARK = b"\n;LAYER_CHANGE\n"

sys.path.insert(0, str(BACKEND))
sys.path.insert(0, str(REPO / "tests"))


def build_file(target_mb: int) -> tuple[Path, int]:
    """The big file and the number of ;LAYER_CHANGE lines it contains."""
    src = SOURCE.read_bytes()
    first, last = src.index(MARK), src.rindex(MARK)
    head, body, tail = src[:first], src[first:last], src[last:]
    per_body = body.count(MARK)
    repeats = max(1, (target_mb * 1_000_000 - len(head) - len(tail)) // len(body))
    out = DATA / f"upload_{target_mb}mb.gcode"
    want_size = len(head) + repeats * len(body) + len(tail)
    if not out.exists() or out.stat().st_size != want_size:
        DATA.mkdir(parents=True, exist_ok=True)
        with out.open("wb") as fh:
            fh.write(head)
            for _ in range(repeats):
                fh.write(body)
            fh.write(tail)
    return out, repeats * per_body + tail.count(MARK)


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(4 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def settle() -> None:
    """Flush the dirty pages the previous step left, so no step pays for another's writeback
    (the same reason bench/backup/run.py syncs before each warm step)."""
    subprocess.run(["sync"], check=True)


def timed(cmd: list[str]) -> float:
    settle()
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def proc_kib(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise KeyError(key)


def thread_cpu(pid: int) -> dict[int, float]:
    """utime + stime of each thread of a process, by thread id."""
    out = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:  # the thread ended meanwhile
            continue
        out[int(task.name)] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return out


def split_cpu(pid: int, before: dict[int, float], after: dict[int, float]) -> dict[str, float]:
    """The event loop (the main thread) and the two busiest other threads of the upload (its
    store and digest threads; they end with it, so `after` is taken just before the response)."""
    used = {tid: cpu - before.get(tid, 0.0) for tid, cpu in after.items()}
    others = [*sorted((cpu for tid, cpu in used.items() if tid != pid), reverse=True), 0.0, 0.0]
    return {"cpu_loop_s": used.get(pid, 0.0), "cpu_thread1_s": others[0], "cpu_thread2_s": others[1]}


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def fresh_vault(path: Path) -> str:
    """Migrated data dir with an admin API key (the way an admin sets one up)."""
    from alembic import command
    from printstash.auth import service as auth_service
    from printstash.core.db import Database
    from printstash.core.schema import alembic_config
    from printstash.core.settings import Settings

    shutil.rmtree(path, ignore_errors=True)
    settings = Settings(data_dir=path, _env_file=None)  # type: ignore[call-arg]
    command.upgrade(alembic_config(settings), "head")
    db = Database.from_settings(settings)
    with db.write() as session:
        user = auth_service.create_user(session, "bench", "bench bench bench", "admin")
        _, key = auth_service.create_api_key(session, user, "bench")
    db.dispose()
    return key


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def curl_upload(base: str, key: str, path: Path, watch: int | None = None
                ) -> tuple[float, dict[str, Any], int, dict[int, float]]:
    """(seconds, body, status, CPU seen per thread of process `watch` while it ran: sampled,
    because the upload's own threads end with it)."""
    seen: dict[int, float] = {}
    start = time.perf_counter()
    curl = subprocess.Popen(
        ["curl", "-sS", "-o", "-", "-w", "\n%{http_code}", "-H", f"X-Api-Key: {key}", "-H", "Expect:",
         "-F", f"file=@{path};type=application/octet-stream", f"{base}/api/v1/files"],
        stdout=subprocess.PIPE)
    while curl.poll() is None:
        if watch is not None:
            seen.update(thread_cpu(watch))
        time.sleep(0.01)
    elapsed = time.perf_counter() - start
    assert curl.stdout is not None
    text, _, status = curl.stdout.read().decode().rpartition("\n")
    return elapsed, json.loads(text), int(status), seen


def wait_up(base: str, proc: subprocess.Popen[bytes]) -> None:
    import httpx

    deadline = time.monotonic() + 120  # a busy shared machine can take a minute to import and migrate
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("printstash serve exited")
        try:
            if httpx.get(f"{base}/api/v1/health/live", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise TimeoutError("api did not come up")


def upload_run(big: Path, sha: str, layers: int, log_dir: Path, backend: Path = BACKEND,
               watch_threads: bool = False, vault_parent: Path = DATA) -> dict[str, float]:
    data_dir = vault_parent / "vault-upload"  # --vault-parent /dev/shm: is the disk the limit?
    key = fresh_vault(data_dir)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("VAULT_")}
    env.update(VAULT_DATA_DIR=str(data_dir), VAULT_LOG_LEVEL="INFO")
    log = (log_dir / "server.log").open("ab")
    proc = subprocess.Popen([sys.executable, "-m", "printstash.cli", "serve", "--port", str(port)],
                            cwd=backend, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_up(base, proc)
        _, _, warm, _ = curl_upload(base, key, SOURCE)  # imports + first-request costs out of the way
        assert warm == 201, warm
        settle()
        threads_before = thread_cpu(proc.pid)
        rss_before = proc_kib(proc.pid, "VmRSS")
        cpu_before = cpu_seconds(proc.pid)
        client_before = children_cpu()
        elapsed, body, status, threads = curl_upload(base, key, big, watch=proc.pid if watch_threads else None)
        client_cpu = children_cpu() - client_before
        hwm = proc_kib(proc.pid, "VmHWM")
        server_cpu = cpu_seconds(proc.pid) - cpu_before
    finally:
        proc.terminate()
        proc.wait(15)
        log.close()
    assert status == 201, (status, body)
    assert body["sha256"] == sha and body["size"] == big.stat().st_size, body
    assert body["metadata"].get("layer_count") == layers, (body["metadata"].get("layer_count"), layers)
    shutil.rmtree(data_dir, ignore_errors=True)
    breakdown = _server_breakdown(log_dir / "server.log")
    split = split_cpu(proc.pid, threads_before, threads) if watch_threads else {}
    return {**breakdown, **split,
            "seconds": elapsed, "server_cpu_s": server_cpu, "client_cpu_s": client_cpu,
            "load1": os.getloadavg()[0], "rss_before_mib": rss_before / 1024,
            "hwm_mib": hwm / 1024, "rss_growth_mib": (hwm - rss_before) / 1024}


def _server_breakdown(log_path: Path) -> dict[str, float]:
    """The server's own timing line for the last upload (printstash.library.upload, INFO)."""
    import re

    lines = [ln for ln in log_path.read_text(errors="replace").splitlines() if "upload 'upload_" in ln]
    match = re.search(r"body ([\d.]+)s incl. fsync ([\d.]+)s; dedupe\+parse\+insert ([\d.]+)s", lines[-1])
    assert match, lines[-1:]
    return {"server_body_s": float(match[1]), "server_fsync_s": float(match[2]), "server_store_s": float(match[3])}


# The HTTP floor: the same uvicorn (httptools + uvloop) serving an ASGI app that only drains
# the request body: what loopback + curl + uvicorn cost before PrintStash does anything (the
# issue's "bare-uvicorn floor"). Beside it, the same drain on the api's own HTTP protocol
# (core/httpserver.py: a 1 MiB body buffer, as `printstash serve` runs it): what receiving costs
# PrintStash before it does anything with the bytes.
DRAIN_APP = """
async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    more = True
    while more:
        message = await receive()
        more = message.get("more_body", False)
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"{}"})
"""


SERVE_DRAIN = ("import sys, uvicorn, drain_app\n"
               "from printstash.core.httpserver import guarded_protocol\n"
               "uvicorn.run(drain_app.app, port=int(sys.argv[1]), log_level='warning',\n"
               "            http=guarded_protocol(20.0, 30.0))\n")


def drain_run(big: Path, stock: bool = True) -> dict[str, float]:
    DATA.mkdir(parents=True, exist_ok=True)
    (DATA / "drain_app.py").write_text(DRAIN_APP)
    port = free_port()
    command = ([sys.executable, "-m", "uvicorn", "drain_app:app", "--port", str(port), "--log-level", "warning"]
               if stock else [sys.executable, "-c", SERVE_DRAIN, str(port)])
    proc = subprocess.Popen(command, cwd=DATA, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        _wait_port(port)
        settle()
        cpu_before = cpu_seconds(proc.pid)
        start = time.perf_counter()
        subprocess.run(["curl", "-sS", "-o", "/dev/null", "-H", "Expect:", "-F", f"file=@{big}",
                        f"http://127.0.0.1:{port}/"], check=True)
        return {"http_floor": time.perf_counter() - start, "floor_server_cpu_s": cpu_seconds(proc.pid) - cpu_before}
    finally:
        proc.terminate()
        proc.wait(15)


def _wait_port(port: int) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise TimeoutError("drain app did not come up")


def moonraker_run(printer: Any, big: Path) -> dict[str, float]:
    """The same curl -F to Moonraker's upload endpoint; the file is deleted again afterwards."""
    settle()
    cpu_before = cpu_seconds(printer.moonraker.pid)
    start = time.perf_counter()
    done = subprocess.run(["curl", "-sS", "-o", "/dev/null", "-w", "%{http_code}", "-H", "Expect:",
                           "-F", f"file=@{big};type=application/octet-stream",
                           f"{printer.url}/server/files/upload"], check=True, capture_output=True)
    elapsed = time.perf_counter() - start
    cpu = cpu_seconds(printer.moonraker.pid) - cpu_before
    assert done.stdout == b"201", done.stdout
    printer.http.delete(f"/server/files/gcodes/{big.name}").raise_for_status()
    return {"moonraker": elapsed, "moonraker_cpu_s": cpu}


def copy_runs(big: Path) -> dict[str, float]:
    dest = DATA / "cp-target.gcode"
    out = {"cp": timed(["cp", str(big), str(dest)])}
    dest.unlink()
    out["dd_fsync"] = timed(["dd", f"if={big}", f"of={dest}", "bs=4M", "conv=fsync"])
    dest.unlink()
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--mb", type=int, default=500)
    parser.add_argument("--no-moonraker", action="store_true", help="skip the Moonraker side")
    parser.add_argument("--thread-cpu", action="store_true",
                        help="sample the server's per-thread CPU every 10 ms during the upload (the sampling "
                             "itself takes CPU from a 2-CPU machine, so the timed figures are best without it)")
    parser.add_argument("--vault-parent", type=Path, default=DATA, help="put the api's data dir under this directory "
                        "(default bench/data; /dev/shm shows the upload without the disk)")
    parser.add_argument("--baseline", type=Path, help="also upload to the api of this other checkout's backend/ "
                        "(e.g. `git archive main | tar -x -C DIR`), in the same runs")
    args = parser.parse_args()
    big, layers = build_file(args.mb)
    size = big.stat().st_size
    sha = sha256_file(big)
    RESULTS.mkdir(parents=True, exist_ok=True)
    from harness.peers import klipper_printer

    with ExitStack() as stack:
        printer = None if args.no_moonraker else stack.enter_context(klipper_printer(with_klippy=False))
        rows = [run_once(run, big, sha, layers, printer, args.baseline, args.thread_cpu, args.vault_parent)
                for run in range(args.runs)]
    report(big, size, layers, rows)


def run_once(run: int, big: Path, sha: str, layers: int, printer: Any, baseline: Path | None,
             watch_threads: bool, vault_parent: Path) -> dict[str, Any]:
    """One of each, interleaved, so machine noise hits every side alike."""
    row = {**copy_runs(big), **drain_run(big),
           **upload_run(big, sha, layers, RESULTS, watch_threads=watch_threads, vault_parent=vault_parent)}
    row["api_floor"] = drain_run(big, stock=False)["http_floor"]
    if baseline is not None:
        row["baseline"] = upload_run(big, sha, layers, RESULTS, baseline / "backend")["seconds"]
    if printer is not None:
        row.update(moonraker_run(printer, big))
    mr = f"moonraker {row['moonraker']:.2f}s  " if printer is not None else ""
    mr += f"baseline {row['baseline']:.2f}s  " if baseline is not None else ""
    mr += f"api floor {row['api_floor']:.2f}s  "
    print(f"run {run + 1}: upload {row['seconds']:.2f}s  {mr}floor {row['http_floor']:.2f}s  cp {row['cp']:.2f}s  "
              f"dd+fsync {row['dd_fsync']:.2f}s  "
              f"server cpu {row['server_cpu_s']:.2f}s (body {row['server_body_s']:.2f}s, "
              f"fsync {row['server_fsync_s']:.2f}s, parse+insert {row['server_store_s']:.2f}s)  "
              f"rss +{row['rss_growth_mib']:.1f} MiB", flush=True)
    return row


def report(big: Path, size: int, layers: int, rows: list[dict[str, Any]]) -> None:
    med = {k: statistics.median(r[k] for r in rows) for k in rows[0]}
    mb = size / 1e6
    table = [("upload (curl -F -> uvicorn -> files/ab/<sha>, full scan, fsync)", med["seconds"]),
             ("HTTP floor: same curl -F to uvicorn, app only drains the body", med["http_floor"]),
             ("the same drain on the api's HTTP protocol (1 MiB body buffer)", med["api_floor"]),
             ("cp FILE DEST", med["cp"]), ("dd bs=4M conv=fsync", med["dd_fsync"])]
    if "baseline" in med:
        table.insert(1, ("the same upload to the --baseline checkout's api", med["baseline"]))
    if "moonraker" in med:
        table.insert(1, ("Moonraker 0.11.0: same curl -F to POST /server/files/upload", med["moonraker"]))
    print(f"\nfile: {big.name}, {mb:.1f} MB, {layers} layers; medians of {len(rows)} runs")
    print(f"{'what':<66} {'s':>7} {'MB/s':>8}")
    for name, secs in table:
        print(f"{name:<66} {secs:7.2f} {mb / secs:8.0f}")
    ratio = med["cp"] / med["seconds"]
    print(f"\nupload throughput = {ratio:.0%} of cp (information only); "
          f"vs dd+fsync = {med['dd_fsync'] / med['seconds']:.0%}; the HTTP floor alone = "
          f"{med['cp'] / med['http_floor']:.0%} of cp, the upload = "
          f"{med['http_floor'] / med['seconds']:.0%} of the floor's throughput")
    if "moonraker" in med:
        speedups = [r["moonraker"] / r["seconds"] for r in rows]
        print(f"vs Moonraker 0.11.0: {med['moonraker'] / med['seconds']:.1f}x faster (target >= 3x; per run "
              f"{min(speedups):.1f}-{max(speedups):.1f}x); Moonraker server CPU {med['moonraker_cpu_s']:.2f} s")
    print(f"upload = {med['http_floor'] / med['seconds']:.0%} of the HTTP floor's throughput (target >= 70%)")
    print(f"client (curl) CPU: median {med['client_cpu_s']:.2f} s; 1-min load average during the runs: "
          f"median {med['load1']:.1f} on {os.cpu_count()} CPUs")
    print(f"server CPU during the upload: median {med['server_cpu_s']:.2f} s (all threads); server-side wall: "
          f"body {med['server_body_s']:.2f} s of which fsync {med['server_fsync_s']:.2f} s, "
          f"dedupe+parse+insert {med['server_store_s']:.2f} s")
    if "cpu_loop_s" in med:
        print(f"server CPU by thread: event loop {med['cpu_loop_s']:.2f} s, the upload's two threads "
              f"{med['cpu_thread1_s']:.2f} s and {med['cpu_thread2_s']:.2f} s (store; SHA-256 + scan)")
    cpu_bound = (med["server_cpu_s"] + med["client_cpu_s"]) / (os.cpu_count() or 1)
    print(f"HTTP floor's server CPU: median {med['floor_server_cpu_s']:.2f} s. Shortest possible upload on "
          f"{os.cpu_count()} CPUs with this work, perfectly parallel: (server + client CPU) / CPUs = "
          f"{cpu_bound:.2f} s = {med['cp'] / cpu_bound:.0%} of cp")
    print(f"server RSS growth during the upload: median {med['rss_growth_mib']:.1f} MiB, "
          f"max {max(r['rss_growth_mib'] for r in rows):.1f} MiB (target < 64 MiB)")
    out = {"file": big.name, "bytes": size, "layers": layers, "runs": rows, "median": med,
           "upload_vs_cp": ratio, "nproc": os.cpu_count()}
    (RESULTS / "upload.json").write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
