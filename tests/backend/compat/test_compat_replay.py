"""Recorded PrusaSlicer and Cura request sequences replayed against PrintStash."""

import json
from pathlib import Path

import pytest
from compatkit import Slicer
from fastapi.testclient import TestClient
from harness.paths import GCODE_FIXTURES
from harness.slicer_recordings import Step, cura, lookup, prusaslicer, status_ok, wrong_key

from printstash import __version__
from printstash.core import maintenance
from printstash.library.models import File

PRUSA_GCODE = GCODE_FIXTURES / "prusaslicer" / "prusa_cube20_0.20mm_PLA_thumbs.gcode"
CURA_GCODE = GCODE_FIXTURES / "cura" / "cura_cube20_0.20mm_ender3.gcode"


def _replay(client: TestClient, step: Step) -> tuple[int, object, dict[str, str]]:
    answer = client.request(step.method, step.path, headers=step.headers, content=step.body or None)
    body = answer.json() if answer.headers.get("content-type", "").startswith("application/json") else None
    return answer.status_code, body, dict(answer.headers)


def _run(client: TestClient, steps: list[Step]) -> list[object]:
    bodies = []
    for step in steps:
        status, body, _ = _replay(client, step)
        assert status_ok(step, status), (step.label, status, body)
        for key in step.reads:
            lookup(body, key)  # KeyError names the missing key
        bodies.append(body)
    return bodies


def test_prusaslicer_sequence(slicer: Slicer) -> None:
    version, upload = _run(slicer.client, prusaslicer(slicer.key, PRUSA_GCODE, "cube from prusa.gcode"))
    assert isinstance(version, dict)
    assert version["text"].startswith("OctoPrint") and f"PrintStash {__version__}" in version["text"]
    assert isinstance(upload, dict) and upload["done"] is True
    local = upload["files"]["local"]
    assert local["name"] == "cube from prusa.gcode" and local["origin"] == "local"
    stored = slicer.client.get(local["refs"]["resource"].replace("http://testserver", ""),
                               headers={"X-Api-Key": slicer.key}).json()
    expected = next(f for f in _manifest() if f["file"].endswith(PRUSA_GCODE.name))
    assert stored["name"] == "cube from prusa.gcode"
    assert stored["size"] == PRUSA_GCODE.stat().st_size
    assert stored["metadata"]["slicer"] == expected["slicer"]
    download = slicer.client.get(local["refs"]["download"], headers={"X-Api-Key": slicer.key})
    assert download.status_code == 200 and download.content == PRUSA_GCODE.read_bytes()


def _manifest() -> list[dict[str, object]]:
    return json.loads((GCODE_FIXTURES / "manifest.json").read_text())["files"]  # type: ignore[no-any-return]


def test_cura_sequence_with_quoted_qt_boundary(slicer: Slicer) -> None:
    bodies = _run(slicer.client, cura(slicer.key, CURA_GCODE, "cube from cura.gcode"))
    upload = bodies[-1]
    assert isinstance(upload, dict) and upload["files"]["local"]["name"] == "cube from cura.gcode"
    with slicer.db.read() as session:
        row = session.query(File).filter_by(name="cube from cura.gcode").one()
        assert row.size == CURA_GCODE.stat().st_size and row.uploaded_by is not None


def test_print_true_is_accepted_and_ignored(slicer: Slicer) -> None:
    _, upload = _run(slicer.client, prusaslicer(slicer.key, PRUSA_GCODE, "print me.gcode", start_print=True))
    assert isinstance(upload, dict)
    assert upload["effectivePrint"] is False and upload["effectiveSelect"] is False


def test_same_content_twice_is_still_a_success(slicer: Slicer) -> None:
    first = _run(slicer.client, prusaslicer(slicer.key, PRUSA_GCODE, "a.gcode"))[1]
    again = _run(slicer.client, prusaslicer(slicer.key, PRUSA_GCODE, "a.gcode"))[1]
    assert isinstance(first, dict) and isinstance(again, dict)
    assert first["files"]["local"]["refs"] == again["files"]["local"]["refs"]  # one stored file
    with slicer.db.read() as session:
        assert session.query(File).count() == 1


def test_wrong_or_missing_key(slicer: Slicer) -> None:
    for step in wrong_key(PRUSA_GCODE):
        status, body, _ = _replay(slicer.client, step)
        assert status == 401 and isinstance(body, dict) and body["code"] == "invalid_api_key", step.label
    upload = prusaslicer("", PRUSA_GCODE, "x.gcode")[1]
    headers = {k: v for k, v in upload.headers.items() if k != "X-Api-Key"}
    assert slicer.client.post("/api/files/local", headers=headers, content=upload.body).status_code == 401
    # the connection test without a key is public (it says nothing about the vault)
    assert slicer.client.get("/api/version").status_code == 200
    with slicer.db.read() as session:
        assert session.query(File).count() == 0


def test_maintenance_mode_answers_503(slicer: Slicer) -> None:
    with slicer.db.write() as session:
        maintenance.set_mode(session, True, "upgrading")
    status, body, headers = _replay(slicer.client, prusaslicer(slicer.key, PRUSA_GCODE, "m.gcode")[1])
    assert status == 503 and isinstance(body, dict) and body["code"] == "maintenance"
    assert int(headers["retry-after"]) > 0


@pytest.mark.parametrize(("content", "status", "code"), [
    (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8, 415, "not_gcode"),
    (b"", 422, "empty_file"),
])
def test_bad_files_are_refused_clearly(slicer: Slicer, tmp_path: Path, content: bytes, status: int,
                                       code: str) -> None:
    path = tmp_path / "bad.gcode"
    path.write_bytes(content)
    got, body, _ = _replay(slicer.client, prusaslicer(slicer.key, path, "bad.gcode")[1])
    assert (got, isinstance(body, dict) and body["code"]) == (status, code)


def test_select_command_after_upload(slicer: Slicer) -> None:
    headers = {"X-Api-Key": slicer.key}
    ok = slicer.client.post("/api/files/local/cube.gcode", json={"command": "select", "print": True},
                            headers=headers)
    assert ok.status_code == 204
    bad = slicer.client.post("/api/files/local/cube.gcode", json={"command": "explode"}, headers=headers)
    assert bad.status_code == 422 and bad.json()["code"] == "unknown_command"


def test_cookie_upload_from_another_site_is_refused(slicer: Slicer) -> None:
    """A signed-in browser visiting a hostile page must not upload on its behalf."""
    login = slicer.client.post("/api/v1/auth/login", json={"username": "maker", "password": "maker password"})
    assert login.status_code == 200
    step = prusaslicer("", PRUSA_GCODE, "csrf.gcode")[1]
    headers = {k: v for k, v in step.headers.items() if k != "X-Api-Key"} | {"Origin": "http://evil.example"}
    answer = slicer.client.post("/api/files/local", headers=headers, content=step.body)
    assert answer.status_code == 403 and answer.json()["code"] == "csrf_failed"
