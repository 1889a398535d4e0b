"""Binary G-code (.bgcode) end to end. The .bgcode files are made at test time from the real
PrusaSlicer 2.5 fixtures with libbgcode's own binarizer (pybgcode.from_ascii_to_binary, the
converter PrusaSlicer itself uses, default config: heatshrink + MeatPack compression, CRC32
checksums); expected values come from each source file's manifest entry."""

import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from harness.packages import binarize
from librarykit import (
    API,
    FIXTURE_FILES,
    check_expected_metadata,
    fixture_path,
    row_count,
    settings_of,
    stored_files,
    upload,
)

from printstash.core.db import Database
from printstash.core.storage import content_path
from printstash.formats import bgcode
from printstash.library import jobs

PRUSA = [f for f in FIXTURE_FILES if f["slicer"] == "PrusaSlicer"]



def commands(text: bytes) -> list[bytes]:
    """The G-code commands, comments and blank lines dropped (the binarizer drops comments)."""
    lines = (line.split(b";", 1)[0].strip() for line in text.splitlines())
    return [line for line in lines if line]


@pytest.fixture(scope="module")
def bgcode_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    out = tmp_path_factory.mktemp("bgcode")
    return {f["id"]: binarize(fixture_path(f), out / f"{f['id']}.bgcode") for f in PRUSA}


@pytest.mark.parametrize("entry", PRUSA, ids=[f["id"] for f in PRUSA])
def test_bgcode_upload_has_the_source_gcodes_metadata_and_streams_its_gcode(
        admin_client: TestClient, bgcode_files: dict[str, bytes], entry: dict[str, Any]) -> None:
    data = bgcode_files[entry["id"]]
    answer = upload(admin_client, f"{entry['id']}.bgcode", data)
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert body["kind"] == "bgcode" and body["size"] == len(data) and body["parse_error"] is None
    check_expected_metadata(entry["expected"], body["metadata"])
    assert body["metadata"]["layer_count"] == entry["expected"]["layer_count"]
    assert [p["index"] for p in body["plates"]] == [1] and body["plates"][0]["metadata"] == body["metadata"]
    injected = entry.get("thumbnails_injected") or []
    assert [(t["width"], t["height"]) for t in body["thumbnails"]] == [(t["width"], t["height"]) for t in injected]
    assert all(admin_client.get(t["url"]).headers["content-type"] == "image/png" for t in body["thumbnails"])
    assert admin_client.get(f"{API}/files/{body['id']}/download").content == data
    plain = admin_client.get(f"{API}/files/{body['id']}/gcode")
    assert plain.status_code == 200 and plain.headers["content-type"].startswith("text/x-gcode")
    assert commands(plain.content) == commands(fixture_path(entry).read_bytes())
    assert admin_client.get(f"{API}/files/{body['id']}/gcode", params={"plate": 2}).status_code == 404
    assert list(settings_of(admin_client).tmp_dir.glob("*.part")) == []  # the decoded copy is gone


def test_plain_gcode_route_serves_a_gcode_file_as_stored(admin_client: TestClient) -> None:
    data = fixture_path(PRUSA[0]).read_bytes()
    body = upload(admin_client, "a.gcode", data).json()
    assert admin_client.get(f"{API}/files/{body['id']}/gcode?plate=1").content == data


def _damaged(data: bytes, how: str) -> bytes:
    if how == "truncated":
        return data[: len(data) * 2 // 3]
    if how == "version":
        return data[:4] + (99).to_bytes(4, "little") + data[8:]
    # flip one byte inside the last block's payload: its CRC32 no longer matches
    buf = bytearray(data)
    buf[-10] ^= 0xFF
    return bytes(buf)


@pytest.mark.parametrize(("how", "code"), [("truncated", None), ("crc", "bgcode_checksum"),
                                           ("version", "bgcode_version")])
def test_damaged_bgcode_is_422_and_nothing_is_stored(admin_client: TestClient, bgcode_files: dict[str, bytes],
                                                     how: str, code: str | None) -> None:
    answer = upload(admin_client, "bad.bgcode", _damaged(bgcode_files[PRUSA[0]["id"]], how))
    assert answer.status_code == 422, answer.text
    assert answer.json()["detail"] and (code is None or answer.json()["code"] == code)
    assert re.match(r"^(bad_bgcode|bgcode_\w+)$", answer.json()["code"])
    settings = settings_of(admin_client)
    assert stored_files(settings) == [] and row_count(settings) == 0
    assert list(settings.tmp_dir.glob("*.part")) == []


def test_an_upload_decodes_the_bgcode_once(admin_client: TestClient, bgcode_files: dict[str, bytes],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """Decoding is most of a .bgcode's ingest: the check for damage and the parse share one
    decode (libbgcode's own, counted as it runs)."""
    calls: list[Path] = []
    real_decode = bgcode.decode

    def counted(src: Path, dst: Path) -> None:
        calls.append(src)
        real_decode(src, dst)

    monkeypatch.setattr(bgcode, "decode", counted)
    answer = upload(admin_client, "once.bgcode", bgcode_files[PRUSA[0]["id"]])
    assert answer.status_code == 201, answer.text
    assert len(calls) == 1


def test_a_reparse_of_a_damaged_stored_bgcode_keeps_the_row_with_the_reason(
        admin_client: TestClient, bgcode_files: dict[str, bytes]) -> None:
    body = upload(admin_client, "later.bgcode", bgcode_files[PRUSA[0]["id"]]).json()
    settings = settings_of(admin_client)
    stored = content_path(settings, body["sha256"])
    stored.write_bytes(_damaged(stored.read_bytes(), "crc"))  # the disk copy rots after the upload
    database = Database.from_settings(settings)
    try:
        assert jobs.reparse_file(settings, database, body["id"]) is True
    finally:
        database.dispose()
    after = admin_client.get(f"{API}/files/{body['id']}").json()
    assert after["parse_error"].startswith("the stored file cannot be read") and after["name"] == "later.bgcode"
