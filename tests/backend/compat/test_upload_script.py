"""scripts/printstash-upload.py against a real PrintStash (uvicorn) and against a dead port."""

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from harness.paths import GCODE_FIXTURES, REPO
from harness.processes import free_port, live_api
from harness.vault import add_user_with_key, make_settings, migrate

SCRIPT = REPO / "scripts" / "printstash-upload.py"
GCODE = GCODE_FIXTURES / "prusaslicer" / "prusa_tower_0.30mm_ABS_0.6n.gcode"


@dataclass
class Live:
    base: str
    key: str


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    data_dir = tmp_path_factory.mktemp("script") / "data"
    settings = make_settings(data_dir)
    migrate(settings)
    key = add_user_with_key(settings, "hook", "member")
    with live_api(data_dir) as base:
        yield Live(base, key)


def run(*args: str, **env: str) -> tuple[subprocess.CompletedProcess[str], float]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("PRINTSTASH_", "SLIC3R_"))}
    started = time.monotonic()
    # The slicer runs the script with whatever python is on PATH: no project venv needed.
    done = subprocess.run([sys.executable, "-I", str(SCRIPT), *args], env={**clean, **env},
                          capture_output=True, text=True, timeout=120)
    return done, time.monotonic() - started


def _files(live: Live) -> dict[str, dict[str, object]]:
    items = httpx.get(f"{live.base}/api/v1/files", headers={"X-Api-Key": live.key}).json()["items"]
    return {item["name"]: item for item in items}


def test_slicer_hook_uploads_under_the_final_name(live: Live, tmp_path: Path) -> None:
    # PrusaSlicer/OrcaSlicer: the script gets a temporary copy; the final name is in the env.
    temp = tmp_path / ".4711.gcode.pp"
    shutil.copyfile(GCODE, temp)
    done, _ = run(str(temp), PRINTSTASH_URL=live.base, PRINTSTASH_API_KEY=live.key,
                  SLIC3R_PP_OUTPUT_NAME=str(tmp_path / "exports" / "tower ABS.gcode"))
    assert done.returncode == 0, done.stderr
    assert "stored as 'tower ABS.gcode'" in done.stderr
    stored = _files(live)["tower ABS.gcode"]
    assert stored["size"] == GCODE.stat().st_size
    body = httpx.get(f"{live.base}/api/v1/files/{stored['id']}/download", headers={"X-Api-Key": live.key})
    assert body.content == GCODE.read_bytes()
    assert temp.read_bytes() == GCODE.read_bytes()  # the slicer's file is left alone

    again, _ = run(str(temp), "--url", live.base, "--api-key", live.key, "--name", "other.gcode")
    assert again.returncode == 0 and "already stored as 'tower ABS.gcode'" in again.stderr


def test_windows_style_output_name(live: Live, tmp_path: Path) -> None:
    source = GCODE_FIXTURES / "prusaslicer" / "prusa_cube20_0.20mm_PLA_thumbs.gcode"
    done, _ = run(str(source), PRINTSTASH_URL=live.base, PRINTSTASH_API_KEY=live.key,
                  SLIC3R_PP_OUTPUT_NAME="C:\\Users\\me\\Desktop\\cube win.gcode")
    assert done.returncode == 0, done.stderr
    assert "cube win.gcode" in _files(live)


def test_dead_server_does_not_fail_the_export(tmp_path: Path) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    done, elapsed = run(str(GCODE), PRINTSTASH_URL=dead, PRINTSTASH_API_KEY="ps_whatever")
    assert done.returncode == 0
    assert "could not reach" in done.stderr and "retrying" in done.stderr and "giving up" in done.stderr
    assert elapsed < 30  # brief retries only: the slicer is waiting
    strict, _ = run(str(GCODE), "--strict", PRINTSTASH_URL=dead, PRINTSTASH_API_KEY="ps_whatever")
    assert strict.returncode == 1


def test_refusals_are_reported_not_retried(live: Live, tmp_path: Path) -> None:
    done, _ = run(str(GCODE), PRINTSTASH_URL=live.base, PRINTSTASH_API_KEY="ps_wrong")
    assert done.returncode == 0 and "refused by PrintStash (401)" in done.stderr
    assert "retrying" not in done.stderr
    not_gcode = tmp_path / "photo.gcode"
    not_gcode.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)
    log = tmp_path / "upload.log"
    done, _ = run(str(not_gcode), PRINTSTASH_URL=live.base, PRINTSTASH_API_KEY=live.key, PRINTSTASH_LOG=str(log))
    assert done.returncode == 0 and "(415)" in done.stderr and "(415)" in log.read_text()


def test_missing_configuration_is_explained(tmp_path: Path) -> None:
    done, _ = run(str(GCODE))
    assert done.returncode == 0 and "PRINTSTASH_URL" in done.stderr
    missing, _ = run(str(tmp_path / "nope.gcode"), PRINTSTASH_URL="http://127.0.0.1:9", PRINTSTASH_API_KEY="k")
    assert missing.returncode == 0 and "no such file" in missing.stderr
