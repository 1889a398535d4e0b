"""Substring search of names (issue 18, migration 0013): `benchy` finds `3DBenchy_v2.gcode`,
a fragment from the middle of a name too; files matching by whole words rank above files
found only by a substring; fragments under 3 letters and digits match word beginnings only.
The same expected sets on SQLite (FTS5 trigram) and PostgreSQL (pg_trgm), each checked by
running this file with and without VAULT_TEST_DB=postgresql.
"""

from collections.abc import Iterator

import pytest
from harness.vault import migrate
from librarykit import add_file, check_search_index
from sqlalchemy import text
from sqlalchemy.orm import Session

from printstash.core.db import Database
from printstash.core.settings import Settings
from printstash.library import search, service
from printstash.library.models import File
from printstash.library.schemas import FileUpdate

BENCHY_V2 = "3DBenchy_v2.gcode"
BENCHY_PLA = "benchy_0.2mm_PLA.gcode"
CREME = "Crème brûlée stand.gcode"
GEAR = "gear.gcode"


def matches(session: Session, q: str, **filters: object) -> list[str]:
    rows, total = search.search_files(session, search.FileQuery(q=q, limit=200, **filters))
    assert total == len(rows)
    return [row.name for row in rows]


@pytest.fixture
def files(db: Database) -> Iterator[Database]:
    with db.write() as s:
        # inserted first: ordered by id alone it would come first
        add_file(s, BENCHY_V2, filament_type="PETG", slicer="OrcaSlicer")
        add_file(s, BENCHY_PLA, filament_type="PLA", slicer="PrusaSlicer")
        add_file(s, CREME, filament_type="PETG", printer_model="Creality Ender-3")
        add_file(s, GEAR, notes="needs a brim", slicer="Slic3r")
    yield db


@pytest.mark.parametrize(("q", "expected"), [
    ("benchy", {BENCHY_V2, BENCHY_PLA}),  # the word benchy, and inside 3DBenchy
    ("BENCHY", {BENCHY_V2, BENCHY_PLA}),
    ("dbench", {BENCHY_V2}),  # from the middle of a name
    ("chy_v2", {BENCHY_V2}),  # separators fold to one space on both sides
    ("chy-v2", {BENCHY_V2}),
    ("chy v2", {BENCHY_V2}),  # two chunks: chy (inside 3DBenchy) and v2 (a word)
    ("ulee", {CREME}),  # accents folded: brûlée
    ("ÛLÉE", {CREME}),
    ("ear", {GEAR}),
    ("benchy petg", {BENCHY_V2}),  # every chunk must match: by name or by words
    ("benchy pla", {BENCHY_PLA}),
    ("chy 2mm", {BENCHY_PLA}),
    ("rim", set()),  # notes, tags and material are matched by words, never by substrings
    ("ality", set()),  # printer_model
    ("ea", set()),  # under 3 letters: word beginnings only (no word starts with "ea")
    ("v2", {BENCHY_V2}),  # ... this one does
    ("nc", set()),
    ("3db", {BENCHY_V2}),
    ("benchyx", set()),
    ("chy_v3", set()),
])
def test_fragments_of_names(files: Database, q: str, expected: set[str]) -> None:
    with files.read() as s:
        assert set(matches(s, q)) == expected


def test_filters_apply_to_substring_matches(files: Database) -> None:
    with files.read() as s:
        assert matches(s, "enchy", filament_type=["PETG"]) == [BENCHY_V2]
        assert matches(s, "enchy", slicer=["Cura"]) == []
        facets = search.facets(s, search.FileQuery(q="enchy"))
        assert facets.total == 2
        assert {v.value: v.count for v in facets.filament_type} == {"PETG": 1, "PLA": 1}


def test_whole_words_rank_above_substrings(files: Database) -> None:
    with files.read() as s:
        assert matches(s, "benchy") == [BENCHY_PLA, BENCHY_V2]
        assert matches(s, "benchy", sort="relevance") == [BENCHY_PLA, BENCHY_V2]
        assert matches(s, "benchy", sort="name") == [BENCHY_V2, BENCHY_PLA]
        # a page boundary between the two tiers
        first, total = search.search_files(s, search.FileQuery(q="benchy", limit=1))
        second, _ = search.search_files(s, search.FileQuery(q="benchy", limit=1, offset=1))
        assert total == 2 and [first[0].name, second[0].name] == [BENCHY_PLA, BENCHY_V2]


def test_trashed_files_are_not_found_by_substring(files: Database) -> None:
    with files.write() as s:
        row = s.query(File).filter(File.name == BENCHY_V2).one()
        service.trash_file(s, row.id)
    with files.read() as s:
        assert matches(s, "dbench") == []


def test_rename_and_delete_keep_the_index(files: Database) -> None:
    with files.write() as s:
        row = s.query(File).filter(File.name == GEAR).one()
        service.update_file(s, row.id, FileUpdate(name="Planetary_Gearbox.gcode"))
        check_search_index(s)
    with files.read() as s:
        assert matches(s, "tarygear") == []  # separators stay separators
        assert matches(s, "etary gearb") == ["Planetary_Gearbox.gcode"]
        assert matches(s, "ear") == ["Planetary_Gearbox.gcode"]
    with files.write() as s:
        s.delete(s.query(File).filter(File.name == CREME).one())
        s.flush()
        check_search_index(s)
    with files.read() as s:
        assert matches(s, "ulee") == []


def test_existing_files_are_found_after_the_upgrade(settings: Settings) -> None:
    """Files stored before 0010 get their folded name and their index entries."""
    migrate(settings, "0009")
    database = Database.from_settings(settings)
    try:
        with database.write() as s:
            s.execute(text("INSERT INTO files (name, size, sha256, notes, uploaded_at, parse_status, full_scan_done, "
                           "metadata_json, thumbnail_count, print_count, favourite, kind) VALUES "
                           f"('{BENCHY_V2}', 1, 'ab', '', '2026-01-01 00:00:00', 'ok', false, '{{}}', 0, 0, "
                           "false, 'gcode')"))
        migrate(settings)
        with database.read() as s:
            check_search_index(s)
            assert matches(s, "dbench") == [BENCHY_V2]
    finally:
        database.dispose()


def test_the_index_check_can_fail(files: Database) -> None:
    """check_search_index notices a name changed behind the model's back, and (SQLite) a
    trigram index that missed a change."""
    with files.write() as s:
        s.execute(text("UPDATE files SET name = 'renamed.gcode' WHERE name = :n"), {"n": GEAR})
        with pytest.raises(AssertionError, match="name_search is stale"):
            check_search_index(s)
        s.rollback()
    if files.write_engine.dialect.name != "sqlite":
        return
    with files.write() as s:
        s.execute(text("DROP TRIGGER files_fts_names_au"))
        row = s.query(File).filter(File.name == GEAR).one()
        row.name = "renamed.gcode"
        s.flush()
        with pytest.raises(Exception, match=r"malformed|corrupt"):
            check_search_index(s)
        s.rollback()
