"""The README's first command: `make run` migrates an empty data dir and serves api + worker."""

import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from harness.paths import REPO
from harness.processes import free_port, vault_env
from harness.vault import make_settings

from printstash.core.schema import SchemaStatus, schema_state


@pytest.mark.system
def test_make_run_on_an_empty_data_dir(tmp_path: Path) -> None:
    data = tmp_path / "data"
    api_port, web_port = free_port(), free_port()
    env = vault_env(data, API_PORT=str(api_port), WEB_PORT=str(web_port))
    proc = subprocess.Popen(["make", "run"], cwd=REPO, env=env, text=True, start_new_session=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 300
        for line in proc.stdout:
            if "PrintStash is running" in line or time.monotonic() > deadline:
                break
        assert httpx.get(f"http://127.0.0.1:{api_port}/api/v1/health/live").json()["status"] == "ok"
        assert schema_state(make_settings(data)).status is SchemaStatus.CURRENT
        if (REPO / "frontend" / "dist" / "index.html").exists():
            assert httpx.get(f"http://127.0.0.1:{web_port}/", timeout=10).status_code == 200
        assert _worker_running(data)
        # where the setup page's help says `make run` keeps the api's log (features/auth/SetupPage.tsx)
        assert "setup token:" in (data / "api.log").read_text()
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(30)
    time.sleep(0.5)
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{api_port}/api/v1/health/live")


def _worker_running(data: Path) -> bool:
    """The worker's heartbeat row appears within a few seconds."""
    from sqlalchemy import select

    from printstash.core.db import Database
    from printstash.core.models import WorkerHeartbeat

    db = Database.from_settings(make_settings(data))
    try:
        for _ in range(100):
            with db.read() as session:
                if session.scalars(select(WorkerHeartbeat)).first():
                    return True
            time.sleep(0.2)
        return False
    finally:
        db.dispose()
