"""Printer updates fanned out to SSE clients: 2 api processes + 2 workers on PostgreSQL, side
by side in the same run with 1 api + 1 worker on SQLite (the single-host setup).

    cd backend && uv run python ../bench/farm/bench_fanout.py [--printers 100] [--real 2]
        [--clients 40] [--rounds 3] [--flips 10] [--runs 1] [--stall 0.9]

Each setup: a fresh vault with --printers printers on the replay server of bench/printers
(recorded Moonraker 0.11.0 responses) and --real real Moonraker + Klippy printers
(tests/harness/peers.py), polled every 2 s (the default), and --clients SSE clients of
/printers/events (tests/system/systemkit.py's SSE: a thread each, real streaming) spread
evenly over the api processes. PostgreSQL is a throwaway cluster of tests/harness/postgres.py.

Each round flips --flips replay printers to printing; the first round also starts a print
on every real printer. For every (client, changed printer), the first `printing` status the
client receives gives two latencies: from the change (it includes the wait for the worker's
next poll, up to 2 s) and from the worker's write of it (status.updated_at: the fan-out the
issue's "within 2 s on every api process" is about). CPU% of one core per api and worker
process over the rounds (/proc/<pid>/stat); on PostgreSQL, the notifications on the
printers' channel, counted by one more LISTENing connection. Writes bench/results/farm-fanout.json.

--stall F stops our own processes (api, worker, their PostgreSQL server processes) for F of
every 200 ms during the rounds: a loaded machine's waits, without loading anyone else's.
A (client, printer) never delivered is printed with what the clients got instead, the
worker's log of that printer, its notifications and the client's stream (re)connections.
"""

import argparse
import contextlib
import json
import os
import random
import signal
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
PRINTERS_BENCH = REPO / "bench" / "printers"
sys.path[:0] = [str(REPO / "tests"), str(REPO / "tests" / "system"), str(PRINTERS_BENCH)]

import psycopg  # noqa: E402
from bench import cpu_seconds  # noqa: E402  (bench/printers/bench.py)
from harness import postgres  # noqa: E402
from harness.paths import GCODE_FIXTURES  # noqa: E402
from harness.peers import klipper_printer  # noqa: E402
from harness.processes import free_port, logged_process, printstash, stop, vault_env, wait_http  # noqa: E402
from harness.vault import add_user_with_key, make_settings, migrate  # noqa: E402
from sqlalchemy import func, make_url, select, text  # noqa: E402
from systemkit import SSE  # noqa: E402

from printstash.core.db import Database  # noqa: E402
from printstash.printers.models import Printer, PrinterStatus  # noqa: E402
from printstash.printers.service import STATUS_CHANNEL  # noqa: E402

DWELL = GCODE_FIXTURES / "klipper" / "klipper_dwell_only.gcode"
RESULTS = REPO / "bench" / "results"


@dataclass(frozen=True)
class Setup:
    label: str
    backend: str  # "postgresql" or "sqlite"
    apis: int
    workers: int


SETUPS = [Setup("PostgreSQL, 2 api + 2 workers", "postgresql", 2, 2),
          Setup("SQLite, 1 api + 1 worker", "sqlite", 1, 1)]


class Stream(SSE):
    """systemkit's SSE client, also noting when each of its streams opened (a stream ends
    after events.STREAM_MAX_S and the client reconnects, as a browser does)."""

    def __init__(self, base: str, headers: dict[str, str]) -> None:
        self.opened: list[float] = []
        super().__init__(base, headers)

    def _read_stream(self) -> None:
        self.opened.append(time.monotonic())
        super()._read_stream()


class Notifications:
    """Counts the notifications on the printers' channel (one more LISTENing connection)."""

    def __init__(self, url: str) -> None:
        parts = make_url(url)
        self.conn = psycopg.connect(dbname=parts.database, user=parts.username, host=parts.query["host"],
                                    autocommit=True)
        self.conn.execute(f"LISTEN {STATUS_CHANNEL}".encode())
        self.count = 0
        self.heard: list[tuple[float, set[int]]] = []  # (wall clock, ids) of each notification
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.done.is_set():
            for note in self.conn.notifies(timeout=0.5):
                self.count += 1
                self.heard.append((time.time(), {int(x) for x in note.payload.split(",") if x.isdigit()}))

    def close(self) -> None:
        self.done.set()
        self.thread.join()
        self.conn.close()


def backends(db: Database, notes: Notifications | None) -> list[int]:
    """The PostgreSQL server processes serving the api and worker processes' connections."""
    if notes is None:
        return []
    with db.read() as session:
        query = text("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
        return [int(pid) for pid in session.scalars(query) if pid != notes.conn.info.backend_pid]


@contextmanager
def stalled(pids: list[int], fraction: float, period: float = 0.2) -> Iterator[None]:
    """Each process stopped (SIGSTOP) for `fraction` of every `period`, each at its own phase:
    the delays a process sees on a CPU shared with many busy ones (a machine at load 20),
    made on demand without taking CPU from anyone else."""
    done = threading.Event()

    def signal_(pid: int, sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):  # a pooled connection's server process ended
            os.kill(pid, sig)

    def cycle(pid: int) -> None:
        done.wait(random.uniform(0, period))
        while not done.is_set():
            signal_(pid, signal.SIGSTOP)
            done.wait(period * fraction)
            signal_(pid, signal.SIGCONT)
            done.wait(period * (1 - fraction))

    threads = [threading.Thread(target=cycle, args=(pid,), daemon=True) for pid in pids] if fraction > 0 else []
    for thread in threads:
        thread.start()
    try:
        yield
    finally:
        done.set()
        for thread in threads:
            thread.join()
        for pid in pids:
            signal_(pid, signal.SIGCONT)


def wait_polled(db: Database, n: int, timeout: float = 180.0) -> None:
    """Until every printer has a status (start-up on a loaded machine takes a while)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with db.read() as session:
            polled = select(func.count()).select_from(PrinterStatus).where(PrinterStatus.state != "unknown")
            done = session.scalar(polled)
        if (done or 0) >= n:
            return
        time.sleep(0.5)
    raise TimeoutError(f"{n} printers not polled within {timeout}s")


def wait_snapshots(clients: list[SSE], n: int, timeout: float = 60.0) -> None:
    """Until every client received every printer's status: its stream is open."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if all(len({d["printer_id"] for _, e, d in list(c.events) if e == "status"}) >= n for c in clients):
            return
        time.sleep(0.2)
    raise TimeoutError("SSE clients did not get every printer's status")


def deliveries(clients: list[SSE], changes: dict[int, float], clock: float,
               timeout: float) -> dict[tuple[int, int], tuple[float, float]]:
    """(client, printer) -> (seconds from the change, seconds from the worker's write) to the
    first `printing` status the client received after the change."""
    found: dict[tuple[int, int], tuple[float, float]] = {}
    deadline = time.monotonic() + timeout
    while len(found) < len(clients) * len(changes) and time.monotonic() < deadline:
        time.sleep(0.1)
        for c, client in enumerate(clients):
            for at, event, data in list(client.events):
                printer = data["printer_id"]
                if event != "status" or printer not in changes or (c, printer) in found:
                    continue
                arrived = at + clock
                if data["status"]["state"] == "printing" and arrived >= changes[printer]:
                    written = datetime.fromisoformat(data["status"]["updated_at"]).timestamp()
                    found[c, printer] = (arrived - changes[printer], arrived - written)
    return found


def misses(clients: list[Stream], changes: dict[int, float], found: dict[tuple[int, int], tuple[float, float]],
           clock: float, logs: list[str], heard: list[tuple[float, set[int]]]) -> list[str]:
    """Why a printer's change did not reach a client as `printing`: what the clients got
    instead, what the worker logged of that printer, when its notifications were heard."""
    out = []
    for printer, at in sorted(changes.items()):
        missed = [c for c in range(len(clients)) if (c, printer) not in found]
        if not missed:
            continue
        got = sorted({(d["status"]["state"], d["status"]["updated_at"][11:23], round(t + clock - at, 2))
                      for c in missed for t, e, d in list(clients[c].events)
                      if e == "status" and d["printer_id"] == printer and t + clock >= at - 1})
        worker = [line[11:23] + line[line.index("):") + 2:] for log in logs for line in log.splitlines()
                  if f"printer p{printer - 1} (" in line and "->" in line]
        notified = [round(t - at, 2) for t, ids in heard if printer in ids and t >= at - 1]
        opened = sorted({round(t + clock - at, 1) for c in missed for t in clients[c].opened if t + clock >= at - 5})
        out.append(f"printer {printer}, changed {datetime.fromtimestamp(at).isoformat()[11:23]}: missed by "
                   f"{len(missed)} clients, who got {got[:12]}; worker: {worker}; notified at +{notified} s; "
                   f"streams opened at {opened[:10]} s")
    return out


@contextmanager
def vault(setup: Setup, root: Path, urls: list[str]) -> Iterator[tuple[dict[str, str], Database, str]]:
    """A migrated vault with the printers and an admin's API key: (env, database, key)."""
    overrides: dict[str, object] = {}
    if setup.backend == "postgresql":
        server = postgres.server()
        overrides["db_url"] = server.url(server.new_database())
    settings = make_settings(root / "data", **overrides)
    migrate(settings)
    db = Database.from_settings(settings)
    with db.write() as session:
        session.add_all(Printer(name=f"p{i}", provider="moonraker", base_url=u) for i, u in enumerate(urls))
    key = add_user_with_key(settings, "admin", "admin")
    env = vault_env(root / "data", VAULT_LOG_LEVEL="WARNING", VAULT_BACKUP_SCHEDULE="",
                    VAULT_DB_URL=settings.database_url)
    try:
        yield env, db, key
    finally:
        db.dispose()


def run_setup(setup: Setup, replay: str, offset: int, args: argparse.Namespace) -> dict[str, Any]:
    """One setup measured; its replay printers are indexes offset.. (a replay printer flips once)."""
    with tempfile.TemporaryDirectory(prefix="ps-farm-") as tmp, ExitStack() as stack:
        real = [stack.enter_context(klipper_printer()) for _ in range(args.real)]
        for printer in real:
            printer.upload(DWELL)
        urls = [f"{replay}/p/{offset + i}" for i in range(args.printers)] + [p.url for p in real]
        env, db, key = stack.enter_context(vault(setup, Path(tmp), urls))
        ports = [free_port() for _ in range(setup.apis)]
        procs = {f"api {i + 1}": printstash("serve", "--port", str(port), env=env) for i, port in enumerate(ports)}
        # the workers log each printer's state change (INFO): a missed delivery is explained from it
        procs |= {f"worker {i + 1}": printstash("worker", env=env | {"VAULT_LOG_LEVEL": "INFO"})
                  for i in range(setup.workers)}
        stack.callback(lambda: [stop(p) for p in procs.values()])
        bases = [f"http://127.0.0.1:{port}" for port in ports]
        for base in bases:
            wait_http(f"{base}/api/v1/health/live", timeout=180.0)
        wait_polled(db, len(urls))
        notes = Notifications(env["VAULT_DB_URL"]) if setup.backend == "postgresql" else None
        if notes is not None:
            stack.callback(notes.close)
        clients = [Stream(bases[i % len(bases)], {"X-Api-Key": key}) for i in range(args.clients)]
        stack.callback(lambda: [c.close() for c in clients])
        wait_snapshots(clients, len(urls))
        clock = time.time() - time.monotonic()  # SSE arrival (monotonic) -> wall clock
        cpu0 = {name: cpu_seconds(p.pid) for name, p in procs.items()}
        notes0, started, load0 = notes.count if notes else 0, time.monotonic(), os.getloadavg()[0]
        found: dict[tuple[int, int], tuple[float, float]] = {}
        expected = 0
        changed: dict[int, float] = {}
        stall = stack.enter_context(ExitStack())
        stall.enter_context(stalled([p.pid for p in procs.values()] + backends(db, notes), args.stall))
        for r in range(args.rounds):
            flips = range(r * args.flips, (r + 1) * args.flips)  # this vault's printer i has id i + 1
            wall = httpx.post(f"{replay}/control/flip", json={"ids": [offset + i for i in flips]}).json()
            changes = {i + 1: wall["flipped_at_wall"] for i in flips}
            if r == 0:
                for k, printer in enumerate(real):
                    changes[args.printers + k + 1] = time.time()
                    printer.start_print(DWELL.name)
            changed |= changes
            got = deliveries(clients, changes, clock, args.timeout)
            found.update(got)
            expected += len(clients) * len(changes)
            time.sleep(2.0)  # a quiet poll between rounds
        stall.close()
        elapsed = time.monotonic() - started
        cpu = {name: 100.0 * (cpu_seconds(p.pid) - cpu0[name]) / elapsed for name, p in procs.items()}
        alive = all(p.poll() is None for p in procs.values())
        notified = (notes.count - notes0) if notes else None
        logs = [Path(p.log_path).read_text(errors="replace") for n, p in procs.items() if n.startswith("worker")]
        missing = misses(clients, changed, found, clock, logs, notes.heard if notes else [])
        for line in missing:
            print(line, flush=True)
        load = (load0, os.getloadavg()[0])
    from_change = [v[0] for v in found.values()]
    from_write = [v[1] for v in found.values()]
    return {"setup": setup.label, "printers": args.printers + args.real, "clients": args.clients,
            "delivered": len(found), "expected": expected, "from_change": from_change, "from_write": from_write,
            "cpu_pct": cpu, "notifications": notified, "seconds": elapsed, "load": load, "processes_alive": alive,
            "misses": missing}


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")


def show(rows: list[dict[str, Any]]) -> str:
    head = ["setup", "delivered", "change→client p50 / p95 / max s", "write→client p50 / p95 / max s",
            "api CPU %", "worker CPU %", "NOTIFYs", "load"]
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for r in rows:
        def spread(values: list[float]) -> str:
            return f"{pct(values, 0.5):.2f} / {pct(values, 0.95):.2f} / {max(values, default=float('nan')):.2f}"

        cpu = r["cpu_pct"]
        lines.append("| " + " | ".join([
            r["setup"], f"{r['delivered']}/{r['expected']}", spread(r["from_change"]), spread(r["from_write"]),
            " + ".join(f"{v:.1f}" for k, v in cpu.items() if k.startswith("api")),
            " + ".join(f"{v:.1f}" for k, v in cpu.items() if k.startswith("worker")),
            "-" if r["notifications"] is None else str(r["notifications"]),
            f"{r['load'][0]:.1f}-{r['load'][1]:.1f}"]) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--printers", type=int, default=100, help="printers on the replay server")
    parser.add_argument("--real", type=int, default=2, help="real Moonraker + Klippy printers")
    parser.add_argument("--clients", type=int, default=40, help="SSE clients, spread over the api processes")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--flips", type=int, default=10, help="replay printers changed per round")
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--stall", type=float, default=0.0,
                        help="fraction of the time each PrintStash process is stopped during the rounds "
                             "(0.75: as on a machine at load ~16; default 0, the machine as it is)")
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds a round waits for every delivery")
    args = parser.parse_args()
    if args.rounds * args.flips > args.printers:
        parser.error("--rounds x --flips must not exceed --printers (each change is a new printer)")
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="ps-replay-") as tmp:
        port = free_port()
        replay = f"http://127.0.0.1:{port}"
        with logged_process([sys.executable, str(PRINTERS_BENCH / "replay.py"), str(port)], PRINTERS_BENCH,
                            dict(os.environ), Path(tmp) / "replay.log"):
            wait_http(f"{replay}/control/stats")
            for _ in range(args.runs):
                for setup in SETUPS:
                    rows.append(run_setup(setup, replay, len(rows) * args.printers, args))
                    print(show(rows[-1:]), flush=True)
    print(f"\n{args.printers} replay + {args.real} real printers, {args.clients} SSE clients, "
          f"{args.rounds} rounds x {args.flips} flips, {os.cpu_count()} CPUs\n" + show(rows))
    RESULTS.mkdir(parents=True, exist_ok=True)
    summary = [{k: v for k, v in r.items() if k not in ("from_change", "from_write")}
               | {"from_change_p50_p95_max": [pct(r["from_change"], 0.5), pct(r["from_change"], 0.95),
                                              max(r["from_change"], default=None)],
                  "from_write_p50_p95_max": [pct(r["from_write"], 0.5), pct(r["from_write"], 0.95),
                                             max(r["from_write"], default=None)]} for r in rows]
    (RESULTS / "farm-fanout.json").write_text(json.dumps({"args": vars(args), "rows": summary,
                                                          "median_from_write_p95": statistics.median(
                                                              pct(r["from_write"], 0.95) for r in rows)}, indent=1))


if __name__ == "__main__":
    main()
