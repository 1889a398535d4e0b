"""Start real PrintStash processes (uvicorn api, worker) as subprocesses for system tests."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from harness.paths import BACKEND


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def vault_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VAULT_")}
    env["VAULT_DATA_DIR"] = str(data_dir)
    env.update(extra)
    return env


def printstash(*args: str, env: dict[str, str], **kw: object) -> subprocess.Popen[str]:
    """Run `printstash ARGS` with the backend's interpreter."""
    cmd = [sys.executable, "-m", "printstash.cli", *args]
    return subprocess.Popen(cmd, cwd=BACKEND, env=env, text=True,  # type: ignore[call-overload]
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, **kw)


def wait_http(url: str, timeout: float = 20.0) -> None:
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
    out, _ = proc.communicate()
    return out or ""


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
