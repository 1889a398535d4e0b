"""The recorded PrusaSlicer and Cura sequences sent to a REAL OctoPrint 1.11.8 and to a real
PrintStash (uvicorn), both on loopback: the status codes and the answer keys the slicers
read must match. OctoPrint is AGPL: it runs from a private venv as an external program.

Deliberate differences (not compared, asserted on the PrintStash side in
tests/backend/compat): GET /api/printer (OctoPrint without a connected printer: 409;
PrintStash reports a ready "printer" so Cura offers its upload button) and the wording
of refusals (OctoPrint 403/400, PrintStash 401: both fail the slicer's connection test).
"""

import http.client
import json
import secrets
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from harness.paths import GCODE_FIXTURES
from harness.processes import free_port, live_api, stop
from harness.slicer_recordings import Step, cura, lookup, prusaslicer, status_ok, wrong_key
from harness.vault import add_user_with_key, make_settings, migrate
from harness.venvs import ensure_venv

pytestmark = pytest.mark.system

OCTOPRINT = "OctoPrint==1.11.8"
PRUSA_GCODE = GCODE_FIXTURES / "prusaslicer" / "prusa_cube20_0.20mm_PLA_thumbs.gcode"
PRUSA_PRINT_GCODE = GCODE_FIXTURES / "prusaslicer" / "prusa_cube20x4_0.20mm_ASA_labels.gcode"
CURA_GCODE = GCODE_FIXTURES / "cura" / "cura_cube20_0.20mm_ender3.gcode"
START_TIMEOUT_S = 120.0

# First-run wizard done, access control on, a global API key, and the plugins that phone
# home disabled (no network here besides loopback).
OCTOPRINT_CONFIG = """\
server:
  firstRun: false
  onlineCheck: {{enabled: false}}
  pluginBlacklist: {{enabled: false}}
  seenWizards: {{corewizard: 4}}
accessControl:
  enabled: true
api:
  key: {key}
plugins:
  _disabled: [softwareupdate, announcements, tracking, errortracking, pi_support, firmware_check]
"""


@dataclass(frozen=True)
class Server:
    name: str
    base: str
    key: str


@pytest.fixture(scope="session")
def octoprint(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    python = ensure_venv("octoprint", [OCTOPRINT])
    basedir = tmp_path_factory.mktemp("octoprint")
    key = secrets.token_hex(16).upper()
    (basedir / "config.yaml").write_text(OCTOPRINT_CONFIG.format(key=key))
    port = free_port()
    # --iknowwhatimdoing: CI containers run as root, which OctoPrint refuses by default.
    cmd = [str(python.parent / "octoprint"), "serve", "--iknowwhatimdoing", "--basedir", str(basedir),
           "--host", "127.0.0.1", "--port", str(port)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_for(base, key, proc)
        yield Server("OctoPrint 1.11.8", base, key)
    finally:
        stop(proc)


def _wait_for(base: str, key: str, proc: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"OctoPrint exited with {proc.returncode}: {stop(proc)[-2000:]}")
        try:
            if httpx.get(f"{base}/api/version", headers={"X-Api-Key": key}, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise TimeoutError(f"OctoPrint did not answer within {START_TIMEOUT_S}s: {stop(proc)[-2000:]}")


@pytest.fixture(scope="session")
def printstash(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    data_dir = tmp_path_factory.mktemp("printstash") / "data"
    settings = make_settings(data_dir)
    migrate(settings)
    key = add_user_with_key(settings, "slicer", "member", "slicer password")
    with live_api(data_dir) as base:
        yield Server("PrintStash", base, key)


def replay(server: Server, step: Step) -> tuple[int, object]:
    """Send the step as recorded (headers verbatim, Host of this server) over plain HTTP/1.1."""
    host = server.base.removeprefix("http://")
    conn = http.client.HTTPConnection(host, timeout=60)
    headers = {"Host": host, **step.headers}
    if step.body:
        headers["Content-Length"] = str(len(step.body))
    headers.setdefault("Accept-Encoding", "identity")
    try:
        conn.request(step.method, step.path, body=step.body or None, headers=headers)
        answer = conn.getresponse()
        raw = answer.read()
    finally:
        conn.close()
    try:
        return answer.status, json.loads(raw) if raw else None
    except ValueError:
        return answer.status, raw[:200]


UPLOAD_NAMES = {"prusa": "compat cube.gcode", "prusa-print": "compat print.gcode", "cura": "compat cura.gcode"}


def _keyed(server: Server, maker: str) -> list[Step]:
    # Distinct content per maker: PrintStash answers a re-upload of stored content with the
    # stored file's name (dedup), OctoPrint with the new name.
    name = UPLOAD_NAMES[maker]
    if maker == "prusa":
        return prusaslicer(server.key, PRUSA_GCODE, name)
    if maker == "prusa-print":
        return prusaslicer(server.key, PRUSA_PRINT_GCODE, name, start_print=True)
    return cura(server.key, CURA_GCODE, name)


def _check(server: Server, step: Step) -> tuple[int, object]:
    status, body = replay(server, step)
    assert status_ok(step, status), (server.name, step.label, status, body)
    for key in step.reads:
        lookup(body, key)
    return status, body


def _shape(value: object) -> str:
    return "number" if isinstance(value, int | float) and not isinstance(value, bool) else type(value).__name__


@pytest.mark.parametrize("maker", ["prusa", "prusa-print", "cura"])
def test_printstash_answers_like_octoprint(octoprint: Server, printstash: Server, maker: str) -> None:
    for ours, theirs in zip(_keyed(printstash, maker), _keyed(octoprint, maker), strict=True):
        our_status, our_body = _check(printstash, ours)
        if not ours.compare:
            continue
        their_status, their_body = _check(octoprint, theirs)
        assert our_status == their_status, ours.label
        for key in ours.reads:
            assert _shape(lookup(our_body, key)) == _shape(lookup(their_body, key)), (ours.label, key)
        if ours.path == "/api/version":
            for body in (our_body, their_body):
                assert isinstance(body, dict) and str(body["text"]).startswith("OctoPrint")
        if ours.method == "POST":
            for body in (our_body, their_body):
                assert isinstance(body, dict)
                assert body["files"]["local"]["name"] == UPLOAD_NAMES[maker]
                assert body["effectivePrint"] is False  # OctoPrint has no printer; PrintStash never prints


def test_wrong_key_fails_on_both(octoprint: Server, printstash: Server) -> None:
    for server in (printstash, octoprint):
        for step in wrong_key(PRUSA_GCODE):
            status, _ = replay(server, step)
            assert 400 <= status < 500, (server.name, step.label, status)


def test_printstash_half_stores_what_the_slicers_sent(printstash: Server) -> None:
    """Runs without OctoPrint: the uploads really landed in the vault, byte for byte."""
    for maker in ("prusa", "cura"):
        for step in _keyed(printstash, maker):
            _check(printstash, step)
    listing = httpx.get(f"{printstash.base}/api/v1/files", headers={"X-Api-Key": printstash.key}).json()
    names = {item["name"]: item for item in listing["items"]}
    assert names["compat cube.gcode"]["size"] == PRUSA_GCODE.stat().st_size
    assert names["compat cura.gcode"]["size"] == CURA_GCODE.stat().st_size
    download = httpx.get(f"{printstash.base}/api/v1/files/{names['compat cura.gcode']['id']}/download",
                         headers={"X-Api-Key": printstash.key})
    assert download.content == CURA_GCODE.read_bytes()
