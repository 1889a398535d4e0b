"""Start real PrintStash processes (uvicorn api, worker) as subprocesses for system tests."""

import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from harness import postgres
from harness.paths import BACKEND


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def vault_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VAULT_")}
    env["VAULT_DATA_DIR"] = str(data_dir)
    if postgres.wanted():  # the vault's database on the test server, as make_settings() picks it
        env["VAULT_DB_URL"] = postgres.server().url(postgres.server().database_for(data_dir))
    env.update(extra)
    return env


def printstash(*args: str, env: dict[str, str], **kw: object) -> subprocess.Popen[str]:
    """Run `printstash ARGS` with the backend's interpreter.

    Output goes to a temporary file, not a pipe: nobody reads a pipe while the test runs, and
    a server that logs every request would block once the pipe's 64 KiB buffer is full.
    """
    cmd = [sys.executable, "-m", "printstash.cli", *args]
    log = tempfile.NamedTemporaryFile("w+", prefix="printstash-", suffix=".log", delete=False)  # noqa: SIM115
    proc = subprocess.Popen(cmd, cwd=BACKEND, env=env, text=True,  # type: ignore[call-overload]
                            stdout=log, stderr=subprocess.STDOUT, **kw)
    proc.log_path = Path(log.name)  # type: ignore[attr-defined]
    log.close()
    return proc  # type: ignore[no-any-return]


def wait_http(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1.0).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {timeout}s")


def stop(proc: subprocess.Popen[str], timeout: float = 10.0) -> str:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
    log_path: Path | None = getattr(proc, "log_path", None)
    if log_path is None:
        out, _ = proc.communicate()
        return out or ""
    text = log_path.read_text(errors="replace")
    log_path.unlink(missing_ok=True)
    return text


@contextmanager
def live_api(data_dir: Path, **env_extra: str) -> Iterator[str]:
    """A real uvicorn serving PrintStash on loopback; yields the base URL."""
    port = free_port()
    proc = printstash("serve", "--port", str(port), env=vault_env(data_dir, **env_extra))
    base = f"http://127.0.0.1:{port}"
    try:
        wait_http(f"{base}/api/v1/health/live")
        yield base
    finally:
        stop(proc)


@contextmanager
def live_worker(data_dir: Path, **env_extra: str) -> Iterator[subprocess.Popen[str]]:
    proc = printstash("worker", env=vault_env(data_dir, **env_extra))
    try:
        yield proc
    finally:
        stop(proc)


@contextmanager
def logged_process(cmd: list[str], cwd: Path, env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A child process for the length of a `with`, its output appended to `log` (an unread pipe
    would fill up with access-log lines and block it); terminated, then killed, at the end."""
    with log.open("ab") as out:
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL)
        try:
            yield proc
        finally:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
