"""library/ingest.py as plain steps, without HTTP: receive (sniff, write, hash, scan) and
store_part (dedupe, publish, parse, insert), the seam later file kinds plug into. Expected
values come from the fixtures manifest."""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from harness.vault import make_settings, migrate
from librarykit import fixture_by_id, fixture_path, parts_left, row_count, sha256_of, stored_files

from printstash import gcode
from printstash.core.db import Database
from printstash.core.errors import UnsupportedMedia
from printstash.core.settings import Settings
from printstash.library import ingest, service

ENTRY = fixture_by_id("prusa_cube20x4_0.20mm_ASA_labels")
DATA = fixture_path(ENTRY).read_bytes()


@pytest.fixture
def vault(tmp_path: Path) -> tuple[Settings, Database]:
    settings = make_settings(tmp_path / "data")
    migrate(settings)
    return settings, Database.from_settings(settings)


async def _batches(data: bytes, piece: int = 7_000, per_batch: int = 9) -> AsyncIterator[list[bytes]]:
    pieces = [data[i:i + piece] for i in range(0, len(data), piece)]
    for i in range(0, len(pieces), per_batch):
        yield pieces[i:i + per_batch]


def _receive(settings: Settings, data: bytes, name: str = "cube.gcode") -> ingest.ReceivedPart:
    async def run() -> ingest.ReceivedPart:
        batches = _batches(data)
        return await ingest.receive(settings, name, await anext(batches), batches)
    return asyncio.run(run())


def test_received_part_is_stored_once_then_found_as_duplicate(vault: tuple[Settings, Database]) -> None:
    settings, db = vault
    part = _receive(settings, DATA)
    assert (part.sha256, part.size, part.kind.name) == (sha256_of(DATA), len(DATA), "gcode")
    assert part.facts is not None and part.facts.fields["layer_count"] == ENTRY["expected"]["layer_count"]
    try:
        stored = ingest.store_part(settings, db, part, None)
    finally:
        part.tmp.discard()
    assert stored.duplicate is False and stored.file.sha256 == sha256_of(DATA)
    assert stored.file.metadata["layer_height"] == ENTRY["expected"]["layer_height"]
    assert stored.file.metadata["layer_count"] == ENTRY["expected"]["layer_count"]
    again = _receive(settings, DATA, "other name.gcode")
    try:
        assert ingest.store_part(settings, db, again, None).duplicate is True
    finally:
        again.tmp.discard()
    assert parts_left(settings) == [] and len(stored_files(settings)) == 1 and row_count(settings) == 1


def test_an_unknown_kind_is_refused_before_a_part_is_created(vault: tuple[Settings, Database]) -> None:
    settings, _ = vault
    with pytest.raises(UnsupportedMedia):
        _receive(settings, b"\x89PNG\r\n\x1a\n" + bytes(4096))
    assert parts_left(settings) == []


def test_a_failing_scan_keeps_the_upload_and_leaves_the_facts_to_a_reparse(
        vault: tuple[Settings, Database], monkeypatch: pytest.MonkeyPatch) -> None:
    class Broken(gcode.FullScan):
        def feed(self, data: bytes) -> None:
            raise RuntimeError("scanner bug")

    settings, db = vault
    monkeypatch.setattr(ingest, "KINDS", (ingest.Kind("gcode", gcode.looks_like_gcode, Broken, ingest.parse_stored),))
    part = _receive(settings, DATA)
    try:
        assert part.facts is None and part.sha256 == sha256_of(DATA)
        stored = ingest.store_part(settings, db, part, None)
    finally:
        part.tmp.discard()
    assert stored.duplicate is False
    assert stored.file.metadata["layer_height"] == ENTRY["expected"]["layer_height"]  # the bounded parse ran
    with db.read() as session:
        row = service.find_by_sha256(session, sha256_of(DATA))
        assert row is not None and row.full_scan_done is False  # so a reparse job redoes the scan
