"""Benchmark: slicer uploads and authentication cost, PrintStash vs a real OctoPrint 1.11.8.

Run from backend/:  uv run python ../bench/compat/run.py [--runs 5] [--big-mb 50]

Both servers run on loopback in the same run: PrintStash (`printstash serve`, uvicorn) on a
freshly migrated vault, OctoPrint 1.11.8 from PyPI in its private venv (.peers/venv-octoprint,
first-run done, a global API key, its G-code analysis off (`gcodeAnalysis.runAt: never`):
its background analysis of the big uploads would otherwise steal the CPU from everything
measured after them; PrintStash parses during the upload and answers after). Measured:

1. Upload round trip of the PrusaSlicer-shaped request (tests/harness/slicer_recordings.py:
   curl-style multipart, print/path/file, X-Api-Key) for real PrusaSlicer fixtures (0.2 MB,
   2.0 MB) and a --big-mb file built from a fixture's layers; every upload has unique content
   (a trailing comment), so PrintStash's dedup shortcut never applies. The physical limit in
   the same run: the same bytes sent over loopback to a socket that only reads them.
2. Per-request authentication: sequential keep-alive GETs, median latency of
   /api/v1/health/live (no auth), /api/v1/auth/me by API key and by session cookie, and
   OctoPrint's /api/version with its API key.
3. Sign-in (argon2id verify + session row): median POST /api/v1/auth/login.

Medians of --runs runs; a table on stdout and JSON in bench/results/compat.json.
"""

import argparse
import http.client
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests"))

from harness.paths import BACKEND, GCODE_FIXTURES  # noqa: E402
from harness.processes import free_port, vault_env, wait_http  # noqa: E402
from harness.slicer_recordings import Step, prusaslicer  # noqa: E402
from harness.vault import make_settings, migrate  # noqa: E402
from harness.venvs import ensure_venv  # noqa: E402

from printstash.auth import service as auth_service  # noqa: E402
from printstash.core.db import Database  # noqa: E402

RESULTS = REPO / "bench" / "results"
SMALL = GCODE_FIXTURES / "prusaslicer" / "prusa_cube20_0.20mm_PLA_thumbs.gcode"
MEDIUM = GCODE_FIXTURES / "prusaslicer" / "prusa_cone_0.05mm_PLA_0.25n_comments.gcode"
LAYERED = GCODE_FIXTURES / "prusaslicer" / "prusa_cylinder_0.15mm_PETG_thumbs.gcode"
MARK = b"\n;LAYER_CHANGE\n"
PASSWORD = secrets.token_urlsafe(16)
OCTOPRINT_CONFIG = """\
server: {{firstRun: false, onlineCheck: {{enabled: false}}, pluginBlacklist: {{enabled: false}},
  seenWizards: {{corewizard: 4}}}}
accessControl: {{enabled: true}}
api: {{key: {key}}}
plugins: {{_disabled: [softwareupdate, announcements, tracking, errortracking, pi_support, firmware_check]}}
gcodeAnalysis: {{runAt: never}}
"""


def big_gcode(mb: int, workdir: Path) -> Path:
    src = LAYERED.read_bytes()
    first, last = src.index(MARK), src.rindex(MARK)
    head, body, tail = src[:first], src[first:last], src[last:]
    repeats = max(1, (mb * 1_000_000 - len(head) - len(tail)) // len(body))
    out = workdir / f"big_{mb}mb.gcode"
    with out.open("wb") as fh:
        fh.write(head)
        for _ in range(repeats):
            fh.write(body)
        fh.write(tail)
    return out


@contextmanager
def printstash_server(workdir: Path) -> Iterator[tuple[str, str]]:
    data_dir = workdir / "vault"
    settings = make_settings(data_dir)
    migrate(settings)
    database = Database.from_settings(settings)
    with database.write() as session:
        user = auth_service.create_user(session, "bench", PASSWORD, "admin")
        _, key = auth_service.create_api_key(session, user, "bench")
    database.dispose()
    port = free_port()
    with (workdir / "printstash.log").open("ab") as log:  # a pipe nobody reads would block uvicorn
        proc = subprocess.Popen([sys.executable, "-m", "printstash.cli", "serve", "--port", str(port)],
                                cwd=BACKEND, env=vault_env(data_dir), stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_http(f"http://127.0.0.1:{port}/api/v1/health/live", timeout=120)  # slow under load
            yield f"http://127.0.0.1:{port}", key
        finally:
            proc.terminate()
            proc.wait(15)


@contextmanager
def octoprint_server(workdir: Path) -> Iterator[tuple[str, str]]:
    python = ensure_venv("octoprint", ["OctoPrint==1.11.8"])
    basedir = workdir / "octoprint"
    basedir.mkdir()
    key = secrets.token_hex(16).upper()
    (basedir / "config.yaml").write_text(OCTOPRINT_CONFIG.format(key=key))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    with (workdir / "octoprint.log").open("ab") as log:
        proc = subprocess.Popen([str(python.parent / "octoprint"), "serve", "--iknowwhatimdoing", "--basedir",
                                 str(basedir), "--host", "127.0.0.1", "--port", str(port)],
                                stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                try:
                    if httpx.get(f"{base}/api/version", headers={"X-Api-Key": key}).status_code == 200:
                        break
                except httpx.HTTPError:
                    time.sleep(0.5)
            yield base, key
        finally:
            proc.terminate()
            proc.wait(30)


def send(base: str, step: Step) -> int:
    host = base.removeprefix("http://")
    conn = http.client.HTTPConnection(host, timeout=600)
    headers = {"Host": host, **step.headers, "Content-Length": str(len(step.body)), "Accept-Encoding": "identity"}
    conn.request(step.method, step.path, body=step.body, headers=headers)
    answer = conn.getresponse()
    answer.read()
    conn.close()
    return answer.status


def unique_upload(key: str, source: Path, run: int, workdir: Path) -> Step:
    copy = workdir / f"run{run}-{source.name}"
    copy.write_bytes(source.read_bytes() + f"\n; bench upload {run} {secrets.token_hex(8)}\n".encode())
    step = prusaslicer(key, copy, copy.name)[1]
    copy.unlink()
    return step


def time_upload(base: str, step: Step) -> float:
    started = time.perf_counter()
    status = send(base, step)
    elapsed = time.perf_counter() - started
    if status != 201:
        raise RuntimeError(f"upload to {base} answered {status}")
    return elapsed


def loopback_sink(body: bytes) -> float:
    """The same bytes over loopback TCP to a reader that discards them: the transport's limit."""
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]

    def drain() -> None:
        conn, _ = server.accept()
        with conn:
            remaining = len(body)
            while remaining > 0:
                chunk = conn.recv(1 << 20)
                if not chunk:
                    break
                remaining -= len(chunk)
            conn.sendall(b"ok")

    reader = threading.Thread(target=drain)
    reader.start()
    started = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port)) as client:
        client.sendall(body)
        client.recv(2)
    elapsed = time.perf_counter() - started
    reader.join()
    server.close()
    return elapsed


def latency(get: Callable[[], httpx.Response], n: int) -> float:
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        answer = get()
        samples.append(time.perf_counter() - started)
        if answer.status_code != 200:
            raise RuntimeError(f"{answer.request.url} answered {answer.status_code}")
    return statistics.median(samples)


def auth_costs(ps: str, key: str, octo: str, octo_key: str, n: int) -> dict[str, float]:
    with httpx.Client(base_url=ps) as anon, httpx.Client(base_url=ps, headers={"X-Api-Key": key}) as keyed, \
            httpx.Client(base_url=ps) as browser, httpx.Client(base_url=octo, headers={"X-Api-Key": octo_key}) as op:
        login = browser.post("/api/v1/auth/login", json={"username": "bench", "password": PASSWORD})
        login.raise_for_status()
        for client, path in ((anon, "/api/v1/health/live"), (keyed, "/api/v1/auth/me"), (op, "/api/version")):
            client.get(path)  # warm-up (connections, first-use writes)
        return {
            "printstash_health_live_noauth_ms": latency(lambda: anon.get("/api/v1/health/live"), n) * 1000,
            "printstash_me_api_key_ms": latency(lambda: keyed.get("/api/v1/auth/me"), n) * 1000,
            "printstash_me_session_cookie_ms": latency(lambda: browser.get("/api/v1/auth/me"), n) * 1000,
            "octoprint_version_api_key_ms": latency(lambda: op.get("/api/version"), n) * 1000,
        }


def login_cost(ps: str, n: int) -> float:
    with httpx.Client(base_url=ps) as client:
        return latency(lambda: client.post("/api/v1/auth/login", json={"username": "bench", "password": PASSWORD}),
                       n) * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--big-mb", type=int, default=50)
    parser.add_argument("--auth-requests", type=int, default=300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=REPO / "bench") as tmp:
        workdir = Path(tmp)
        big = big_gcode(args.big_mb, workdir)
        sources = {"0.2 MB fixture": SMALL, "2.0 MB fixture": MEDIUM, f"{args.big_mb} MB": big}
        with printstash_server(workdir) as (ps, key), octoprint_server(workdir) as (octo, octo_key):
            # Latency first, while both servers are idle and their stores empty.
            runs = [auth_costs(ps, key, octo, octo_key, args.auth_requests) for _ in range(args.runs)]
            auth = {name: statistics.median(r[name] for r in runs) for name in runs[0]}
            logins = statistics.median(login_cost(ps, 5) for _ in range(args.runs))
            uploads: dict[str, dict[str, float]] = {}
            for label, source in sources.items():
                rows: dict[str, list[float]] = {"printstash": [], "octoprint": [], "loopback_sink": []}
                for run in range(args.runs):
                    step = unique_upload(key, source, run, workdir)
                    rows["printstash"].append(time_upload(ps, step))
                    rows["octoprint"].append(time_upload(octo, unique_upload(octo_key, source, run, workdir)))
                    rows["loopback_sink"].append(loopback_sink(step.body))
                uploads[label] = {name: statistics.median(v) for name, v in rows.items()}
                uploads[label]["bytes"] = source.stat().st_size
    report(uploads, auth, logins, args)


def report(uploads: dict[str, dict[str, float]], auth: dict[str, float], login_ms: float,
           args: argparse.Namespace) -> None:
    print(f"\nSlicer upload round trip (PrusaSlicer-shaped request), median of {args.runs}")
    print(f"{'file':<16}{'PrintStash s':>14}{'OctoPrint s':>14}{'loopback sink s':>17}{'PS MB/s':>10}")
    for label, row in uploads.items():
        mbps = row["bytes"] / 1e6 / row["printstash"]
        print(f"{label:<16}{row['printstash']:>14.3f}{row['octoprint']:>14.3f}{row['loopback_sink']:>17.4f}"
              f"{mbps:>10.1f}")
    print(f"\nPer-request latency, sequential keep-alive GETs, median of {args.auth_requests} x {args.runs}")
    for name, value in auth.items():
        print(f"{name:<36}{value:>8.2f} ms")
    print(f"\nSign-in (argon2id + session row), median: {login_ms:.1f} ms")
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = {"uploads": uploads, "auth_latency_ms": auth, "login_ms": login_ms, "runs": args.runs,
           "cpu_count": os.cpu_count(), "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    (RESULTS / "compat.json").write_text(json.dumps(out, indent=2))
    print(f"\nwritten to {RESULTS / 'compat.json'}")


if __name__ == "__main__":
    main()
