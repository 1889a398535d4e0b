"""Job claims per second: core/jobs.claim (FOR UPDATE SKIP LOCKED on PostgreSQL) with 1, 2
and 4 claiming threads, on SQLite and PostgreSQL in the same run.

    cd backend && uv run python ../bench/jobs/bench_claims.py [--jobs 500] [--runs 3]

Each run enqueues --jobs jobs in a fresh migrated vault, then the threads claim and complete
them (one write transaction each, as the worker's job loop does) until none is left. PostgreSQL
is the tests' throwaway server (tests/harness/postgres.py). Prints medians and writes
RESULTS.json beside this file. Every job must be claimed exactly once, or the run fails.
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests"))

from harness.vault import make_settings, migrate  # noqa: E402

from printstash.core import jobs  # noqa: E402
from printstash.core.db import Database  # noqa: E402


def drain(db: Database, threads: int) -> tuple[float, Counter[int]]:
    claimed: Counter[int] = Counter()
    lock = threading.Lock()

    def work(i: int) -> None:
        while True:
            with db.write() as session:
                job = jobs.claim(session, f"w{i}", ["bench"], lease_seconds=60)
                if job is None:
                    return
                jobs.complete(session, job.id, f"w{i}")
            with lock:
                claimed[job.id] += 1

    start = time.perf_counter()
    pool = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    return time.perf_counter() - start, claimed


def one_run(backend: str, n: int, threads: int) -> float:
    os.environ["VAULT_TEST_DB"] = backend
    settings = make_settings(Path(tempfile.mkdtemp(prefix="bench-claims-")))
    migrate(settings)
    db = Database.from_settings(settings)
    try:
        with db.write() as session:
            for i in range(n):
                jobs.enqueue(session, "bench", {"i": i})
        seconds, claimed = drain(db, threads)
    finally:
        db.dispose()
    assert len(claimed) == n and set(claimed.values()) == {1}, f"{backend}: a job was claimed twice or lost"
    return n / seconds


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--jobs", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    results: dict[str, dict[int, float]] = {}
    for backend in ("sqlite", "postgresql"):
        results[backend] = {}
        for threads in (1, 2, 4):
            rates = [one_run(backend, args.jobs, threads) for _ in range(args.runs)]
            results[backend][threads] = statistics.median(rates)
            print(f"{backend:10} {threads} thread(s): {results[backend][threads]:7.0f} claims/s "
                  f"(median of {args.runs}, {args.jobs} jobs)", flush=True)
    load = os.getloadavg()[0]
    print(f"load average at the end: {load:.1f}")
    out = {"jobs": args.jobs, "runs": args.runs, "load_average": load, "claims_per_second": results}
    (Path(__file__).parent / "RESULTS.json").write_text(json.dumps(out, indent=2) + "\n")


if __name__ == "__main__":
    main()
