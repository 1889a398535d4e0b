"""Worker CPU and status latency for N printers polled every 2 s.

    cd backend && uv run python ../bench/printers/bench.py [--sizes 10,100,500] [--runs 3]
        [--window 20] [--real 3]

For each N: a migrated vault with N printers pointing at the replay server (recorded
Moonraker 0.11.0 responses), the real `printstash worker` process, and side by side in the
same run the floor (bare_poll.py: the same requests with httpx, nothing stored). CPU% is
of one core, from /proc/<pid>/stat over the measuring window after a warm-up. Latency:
some printers start "printing" in the replay server; latency is the worker's database
write time of that status minus the moment of the change. `--real K` adds a row with K
real Moonraker + Klippy printers from the test harness. Medians of --runs.
Prints a table and writes bench/results/printers.json.
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path.insert(0, str(REPO / "tests"))

from harness.paths import BACKEND, GCODE_FIXTURES  # noqa: E402
from harness.processes import free_port, logged_process, vault_env, wait_http  # noqa: E402
from harness.vault import make_settings, migrate  # noqa: E402

from printstash.core.db import Database  # noqa: E402
from printstash.core.models import WorkerHeartbeat  # noqa: E402
from printstash.printers.models import Printer, PrinterStatus  # noqa: E402

INTERVAL = 2.0
WARMUP_S = 4.0  # after every printer was polled once
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime + stime


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def make_vault(root: Path, urls: list[str]) -> tuple[Path, Database]:
    data_dir = root / "data"
    settings = make_settings(data_dir)
    migrate(settings)
    db = Database.from_settings(settings)
    with db.write() as session:
        session.add_all(Printer(name=f"p{i}", provider="moonraker", base_url=u) for i, u in enumerate(urls))
    return data_dir, db


def wait_polled(db: Database, n: int, timeout: float = 180.0) -> None:
    """Until the worker has written a status for every printer (start-up on a loaded machine
    can take many seconds: measuring before would count imports, not polling), then settle."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with db.read() as session:
            polled = session.query(PrinterStatus).filter(PrinterStatus.state != "unknown").count()
            beating = session.query(WorkerHeartbeat).count() > 0  # the idle case: started at all
            if polled >= n and beating:
                break
        time.sleep(0.2)
    else:
        raise TimeoutError(f"the worker did not poll {n} printers within {timeout}s")
    time.sleep(WARMUP_S)


def printing_since(db: Database, ids: list[int], flipped_wall: float, timeout: float) -> list[float]:
    """Latency per printer: the worker's write time of 'printing' minus the flip time."""
    found: dict[int, float] = {}
    deadline = time.monotonic() + timeout
    while len(found) < len(ids) and time.monotonic() < deadline:
        with db.read() as session:
            rows = session.query(PrinterStatus).filter(PrinterStatus.printer_id.in_(ids),
                                                       PrinterStatus.state == "printing").all()
        for row in rows:
            found.setdefault(row.printer_id, row.updated_at.timestamp() - flipped_wall)
        time.sleep(0.05)
    return sorted(found.values())


def measure(pids: dict[str, int], window: float, during: Any = None) -> tuple[dict[str, float], Any]:
    before = {k: cpu_seconds(p) for k, p in pids.items()}
    t0 = time.monotonic()
    result = during() if during else None
    left = window - (time.monotonic() - t0)
    if left > 0:
        time.sleep(left)
    elapsed = time.monotonic() - t0
    return {k: 100.0 * (cpu_seconds(p) - before[k]) / elapsed for k, p in pids.items()}, result


def run_replay(n: int, window: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="ps-bench-") as tmp, ExitStack() as stack:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        replay = stack.enter_context(logged_process([sys.executable, str(HERE / "replay.py"), str(port)], HERE,
                                                    dict(os.environ), Path(tmp) / "replay.log"))
        wait_http(f"{base}/control/stats")
        data_dir, db = make_vault(Path(tmp), [f"{base}/p/{i}" for i in range(n)])
        env = vault_env(data_dir, VAULT_PRINTER_POLL_SECONDS=str(INTERVAL), VAULT_LOG_LEVEL="WARNING",
                        VAULT_BACKUP_SCHEDULE="")
        worker = stack.enter_context(logged_process([sys.executable, "-m", "printstash.cli", "worker"], BACKEND,
                                                    env, Path(tmp) / "worker.log"))
        wait_polled(db, n)
        queries0 = httpx.get(f"{base}/control/stats").json()["objects_query"]
        flip_ids = list(range(1, min(n, 20) + 1))  # printer ids are 1..n, replay index = id - 1

        def flip() -> list[float]:
            time.sleep(2.0)
            wall = httpx.post(f"{base}/control/flip", json={"ids": [i - 1 for i in flip_ids]}).json()
            return printing_since(db, flip_ids, wall["flipped_at_wall"], window - 3.0)

        cpu, latencies = measure({"worker": worker.pid, "replay": replay.pid}, window, flip)
        queries = httpx.get(f"{base}/control/stats").json()["objects_query"] - queries0
        rss = rss_mb(worker.pid)
        db.dispose()
        alive = worker.poll() is None
    return {"cpu": cpu, "latencies": latencies, "polls_per_s": queries / window, "worker_alive": alive,
            "worker_rss_mb": rss}


def run_bare(n: int, window: float) -> float:
    with tempfile.TemporaryDirectory(prefix="ps-bench-") as tmp, ExitStack() as stack:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        logs, env = Path(tmp), dict(os.environ)
        stack.enter_context(logged_process([sys.executable, str(HERE / "replay.py"), str(port)], HERE, env,
                                           logs / "replay.log"))
        wait_http(f"{base}/control/stats")
        bare = stack.enter_context(logged_process([sys.executable, str(HERE / "bare_poll.py"), base, str(n),
                                                   str(INTERVAL)], HERE, env, logs / "bare.log"))
        time.sleep(WARMUP_S)
        cpu, _ = measure({"bare": bare.pid}, window)
    return cpu["bare"]


def run_real(k: int, window: float) -> dict[str, Any]:
    from harness.peers import klipper_printer

    dwell = GCODE_FIXTURES / "klipper" / "klipper_dwell_only.gcode"
    with tempfile.TemporaryDirectory(prefix="ps-bench-") as tmp, ExitStack() as stack:
        printers = [stack.enter_context(klipper_printer()) for _ in range(k)]
        for p in printers:
            p.upload(dwell)
        data_dir, db = make_vault(Path(tmp), [p.url for p in printers])
        env = vault_env(data_dir, VAULT_PRINTER_POLL_SECONDS=str(INTERVAL), VAULT_LOG_LEVEL="WARNING",
                        VAULT_BACKUP_SCHEDULE="")
        worker = stack.enter_context(logged_process([sys.executable, "-m", "printstash.cli", "worker"], BACKEND,
                                                    env, Path(tmp) / "worker.log"))
        wait_polled(db, k)

        def start() -> list[float]:
            time.sleep(2.0)
            wall = time.time()
            for p in printers:
                p.start_print(dwell.name)
            return printing_since(db, list(range(1, k + 1)), wall, window - 3.0)

        cpu, latencies = measure({"worker": worker.pid}, window, start)
        db.dispose()
    return {"cpu": cpu, "latencies": latencies}


def pct(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def summarize(label: str, runs: list[dict[str, Any]], bare: list[float], n: int) -> dict[str, Any]:
    lat = [x for r in runs for x in r["latencies"]]
    return {
        "printers": label, "n": n, "runs": len(runs),
        "worker_cpu_pct": statistics.median(r["cpu"]["worker"] for r in runs),
        "worker_cpu_pct_runs": [round(r["cpu"]["worker"], 2) for r in runs],
        "bare_httpx_cpu_pct": statistics.median(bare) if bare else None,
        "replay_server_cpu_pct": _median(r["cpu"].get("replay") for r in runs),
        "polls_per_s": _median(r.get("polls_per_s") for r in runs),
        "worker_rss_mb": _median(r.get("worker_rss_mb") for r in runs),
        "latency_p50_s": pct(lat, 0.5), "latency_p95_s": pct(lat, 0.95), "latency_max_s": max(lat, default=None),
        "latency_samples": len(lat), "expected_latency_samples": sum(min(n, 20) for _ in runs),
    }


def _median(values: Any) -> float | None:
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def show(rows: list[dict[str, Any]]) -> None:
    head = ("printers", "worker CPU%", "bare httpx CPU%", "replay CPU%", "polls/s",
            "lat p50 s", "lat p95 s", "lat max s", "worker RSS MB")
    print(" | ".join(head))
    for r in rows:
        vals = (r["printers"], r["worker_cpu_pct"], r["bare_httpx_cpu_pct"], r["replay_server_cpu_pct"],
                r["polls_per_s"], r["latency_p50_s"], r["latency_p95_s"], r["latency_max_s"], r["worker_rss_mb"])
        print(" | ".join("-" if v is None else f"{v:.2f}" if isinstance(v, float) else str(v) for v in vals))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="0,10,100,500", help="0 = the idle worker's own cost")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--window", type=float, default=20.0)
    ap.add_argument("--real", type=int, default=3, help="real Moonraker+Klippy printers (0: skip)")
    args = ap.parse_args()
    rows = []
    for n in (int(s) for s in args.sizes.split(",")):
        runs = [run_replay(n, args.window) for _ in range(args.runs)]
        bare = [run_bare(n, args.window) for _ in range(args.runs)] if n else []
        rows.append(summarize(f"{n} (replay)" if n else "0 (idle worker)", runs, bare, n))
        show(rows[-1:])
    if args.real:
        runs = [run_real(args.real, args.window) for _ in range(args.runs)]
        rows.append(summarize(f"{args.real} (real Moonraker)", runs, [], args.real))
    show(rows)
    out = REPO / "bench" / "results" / "printers.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"interval_s": INTERVAL, "window_s": args.window, "nproc": os.cpu_count(),
                               "rows": rows}, indent=1))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
