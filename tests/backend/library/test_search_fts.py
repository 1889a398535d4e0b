"""The files_fts index (migration 0005) stays in step with files, tags and file_tags.

Each change goes through the real triggers of a migrated database. On SQLite FTS5's own
'integrity-check' then compares the index with its content (the files_fts_source view); on
PostgreSQL every file's stored tsvector is compared with the one files_fts_document()
makes now. A trigger that indexed the wrong text, missed a row or deleted twice fails here.
"""

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from harness.vault import downgrade, migrate
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from librarykit import add_file, check_search_index
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from printstash.core.db import Database, utcnow
from printstash.core.settings import Settings
from printstash.library import search, tags
from printstash.library.models import File, Tag

FTS_OBJECTS = "SELECT name FROM sqlite_master WHERE name LIKE 'files_fts%' ORDER BY name"


integrity_check = check_search_index


def matches(session: Session, q: str) -> set[str]:
    rows, _ = search.search_files(session, search.FileQuery(q=q, limit=200))
    return {row.name for row in rows}


@pytest.fixture
def files(db: Database) -> Iterator[Database]:
    with db.write() as session:
        add_file(session, "benchy_0.2mm_PLA.gcode", slicer="PrusaSlicer", filament_type="PLA")
        add_file(session, "Crème brûlée stand.gcode", slicer="Cura", filament_type="PETG",
                 printer_model="Creality Ender-3", filament_name="Generic PETG")
        add_file(session, "gear.gcode", slicer="Slic3r", notes="needs a brim")
    yield db


def test_prefix_case_and_accent_insensitive(files: Database) -> None:
    with files.read() as s:
        assert matches(s, "ben") == {"benchy_0.2mm_PLA.gcode"}
        assert matches(s, "BENCHY") == {"benchy_0.2mm_PLA.gcode"}
        assert matches(s, "creme brulee") == {"Crème brûlée stand.gcode"}
        assert matches(s, "CRÈME") == {"Crème brûlée stand.gcode"}
        assert matches(s, "ender") == {"Crème brûlée stand.gcode"}  # printer_model
        assert matches(s, "generic") == {"Crème brûlée stand.gcode"}  # filament_name
        assert matches(s, "brim") == {"gear.gcode"}  # notes
        assert matches(s, "slic3r") == {"gear.gcode"}  # slicer
        assert matches(s, "pla benchy") == {"benchy_0.2mm_PLA.gcode"}
        assert matches(s, "pla gear") == set()  # every word must match


BENCHY = {"benchy_0.2mm_PLA.gcode"}


@pytest.mark.parametrize(("q", "expected"), [
    ('"benchy', BENCHY), ("benchy*", BENCHY), ("((benchy", BENCHY), ("-benchy", BENCHY),
    ("^benchy", BENCHY), ("benchy)", BENCHY), ('bench"y', set()),  # `bench` `y`: no word y…
    ("NEAR(benchy gear)", set()),  # words near, benchy, gear: all required, none has all
    ("benchy OR gear", set()),  # OR is a word too
    ("benchy AND", set()), ("NOT", set()), ("name:gear", set()),  # `name gear` as a phrase
    ('"', set()), ("*", set()), (")", set()), ('"" ""', set()), ("\\", set()),  # no words
    ("'; DROP TABLE files; --", set()), ("zq\x00zq", set()),
    ("\u0149zq", set()), ("\u02bc", set()), ("zq\u02d0zq \u02baq", set()),  # letters unaccent() makes punctuation
])
def test_syntax_is_data(files: Database, q: str, expected: set[str]) -> None:
    with files.read() as s:
        assert matches(s, q) == expected, (q, search.fts_expression(q))


def test_rename_and_notes_reindex(files: Database) -> None:
    with files.write() as s:
        row = s.scalars(select(File).where(File.name == "gear.gcode")).one()
        row.name, row.notes = "sprocket.gcode", "printed in silk"
    with files.read() as s:
        integrity_check(s)
        assert matches(s, "gear") == set()
        assert matches(s, "brim") == set()
        assert matches(s, "sprocket") == {"sprocket.gcode"}
        assert matches(s, "silk") == {"sprocket.gcode"}


def test_tags_add_rename_remove_delete(files: Database) -> None:
    with files.write() as s:
        rows = list(s.scalars(select(File).order_by(File.id)))
        tags.add_tags(s, rows[:2], ["Calibration", "favourite-ish"])
        integrity_check(s)
    with files.read() as s:
        assert matches(s, "calib") == {rows[0].name, rows[1].name}
    with files.write() as s:
        tag = s.scalars(select(Tag).where(Tag.name_key == "calibration")).one()
        tags.rename_tag(s, tag.id, "Tuning")
        integrity_check(s)
    with files.read() as s:
        assert matches(s, "calib") == set()
        assert matches(s, "tuning") == {rows[0].name, rows[1].name}
    with files.write() as s:
        tags.remove_tags(s, [s.get(File, rows[0].id)], ["TUNING"])  # type: ignore[list-item]
        integrity_check(s)
    with files.read() as s:
        assert matches(s, "tuning") == {rows[1].name}
        assert matches(s, "favourite") == {rows[0].name, rows[1].name}
    with files.write() as s:
        tags.delete_tag(s, s.scalars(select(Tag).where(Tag.name == "favourite-ish")).one().id)
        integrity_check(s)
    with files.read() as s:
        assert matches(s, "favourite") == set()
        assert matches(s, "tuning") == {rows[1].name}


def test_trash_hides_and_delete_removes(files: Database) -> None:
    with files.write() as s:
        row = s.scalars(select(File).where(File.name == "gear.gcode")).one()
        tags.add_tags(s, [row], ["spare"])
        row.deleted_at = utcnow()
    with files.read() as s:
        integrity_check(s)
        assert matches(s, "gear") == set()
        assert matches(s, "spare") == set()
    with files.write() as s:
        s.delete(s.scalars(select(File).where(File.name == "gear.gcode")).one())
    with files.write() as s:
        integrity_check(s)
        assert s.scalar(text("SELECT count(*) FROM files_fts")) == 2


def test_restore_and_a_row_stored_in_the_trash_follow_search(files: Database) -> None:
    """PostgreSQL's word and name matches say themselves whether a file is live (0018): a
    search without filters looks nothing else up. Trash, restore, and a file that arrives in
    the trash (`printstash db copy` of a trashed file) move them, without rebuilding words."""
    with files.write() as s:
        gear = s.scalars(select(File).where(File.name == "gear.gcode")).one()
        gear.deleted_at = utcnow()
        add_file(s, "gearbox_cover.gcode", deleted_at=utcnow(), notes="needs a brim")
    with files.read() as s:
        integrity_check(s)
        assert matches(s, "gear") == matches(s, "brim") == matches(s, "ear") == set()
        assert search.search_files(s, search.FileQuery(q="gear"))[1] == 0
    with files.write() as s:
        s.scalars(select(File).where(File.name == "gear.gcode")).one().deleted_at = None
    with files.read() as s:
        integrity_check(s)
        assert matches(s, "gear") == matches(s, "brim") == matches(s, "ear") == {"gear.gcode"}
        assert search.search_files(s, search.FileQuery(q="gear"))[1] == 1


def test_the_live_flags_migration_marks_the_trash_already_there(vault: Settings, db: Database) -> None:
    with db.write() as session:
        add_file(session, "kept_gear.gcode")
        add_file(session, "binned_gear.gcode", deleted_at=utcnow())
    db.dispose()
    downgrade(vault, "0017_live_files")
    migrate(vault)
    with db.read() as s:
        integrity_check(s)
        assert matches(s, "gear") == {"kept_gear.gcode"}


def test_integrity_check_catches_a_stale_index(files: Database) -> None:
    """The check the tests rely on can fail: bypass a trigger and it reports corruption."""
    with files.write() as s:
        pg = s.get_bind().dialect.name == "postgresql"
        s.execute(text("DROP TRIGGER files_fts_files_aiu ON files" if pg else "DROP TRIGGER files_fts_files_bu"))
        s.execute(text("UPDATE files SET name = 'renamed.gcode' WHERE name = 'gear.gcode'"))
        with pytest.raises(Exception, match=r"malformed|corrupt"):
            integrity_check(s)
        s.rollback()


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(q=st.text(max_size=60))
def test_any_text_is_a_valid_query(files: Database, q: str) -> None:
    with files.read() as s:
        matches(s, q)  # raises on an FTS5 syntax error


@pytest.mark.sqlite
def test_downgrade_removes_fts_objects(vault: Settings) -> None:
    assert vault.sqlite_path is not None
    with sqlite3.connect(vault.sqlite_path) as conn:
        names = [r[0] for r in conn.execute(FTS_OBJECTS)]
    assert {"files_fts", "files_fts_source", "files_fts_files_ai", "files_fts_tags_bd"} <= set(names)
    downgrade(vault, "0004")
    with sqlite3.connect(vault.sqlite_path) as conn:
        assert [r[0] for r in conn.execute(FTS_OBJECTS)] == []
        assert conn.execute("SELECT count(*) FROM sqlite_master WHERE type='trigger'").fetchone()[0] == 0
    migrate(vault)
    with sqlite3.connect(vault.sqlite_path) as conn:
        assert [r[0] for r in conn.execute(FTS_OBJECTS)] == names


@pytest.mark.sqlite
def test_upgrade_backfills_existing_files(settings: Settings, tmp_path: Path) -> None:
    """Files stored before 0005 are searchable right after the upgrade ('rebuild')."""
    migrate(settings, "0004")
    assert settings.sqlite_path is not None
    with sqlite3.connect(settings.sqlite_path) as conn:
        conn.execute("INSERT INTO files (name, size, sha256, notes, uploaded_at, parse_status, "
                     "full_scan_done, metadata_json, thumbnail_count, print_count, slicer) "
                     "VALUES ('old_benchy.gcode', 1, 'ab', '', '2026-01-01 00:00:00', 'ok', 0, '{}', 0, 0, 'Cura')")
    migrate(settings)
    database = Database.from_settings(settings)
    try:
        with database.read() as s:
            integrity_check(s)
            assert matches(s, "old") == {"old_benchy.gcode"}
            assert matches(s, "cura") == {"old_benchy.gcode"}
    finally:
        database.dispose()


def test_planner_hints_keep_their_own_compiled_sql() -> None:
    """likely()/unlikely() are part of the statement cache key: a cached compile of one
    must never be reused for the other (that would list the trash)."""
    from sqlalchemy import func
    from sqlalchemy.dialects import sqlite

    live = select(func.count()).select_from(File).where(search._live())
    trashed = select(func.count()).select_from(File).where(search._trashed())
    assert live._generate_cache_key() != trashed._generate_cache_key()
    assert "likely(files.deleted_at IS NULL)" in str(live.compile(dialect=sqlite.dialect()))
    assert "unlikely(files.deleted_at IS NOT NULL)" in str(trashed.compile(dialect=sqlite.dialect()))


@pytest.mark.parametrize("dialect", ["sqlite", "postgresql"])
def test_a_hinted_or_keeps_its_parentheses(dialect: str) -> None:
    """The sort-index walk hints every condition of a page (`_page`), a plate filter's OR
    among them: without a function around it (PostgreSQL) `live AND (a OR b)` must not
    become `live AND a OR b`, which lets in trashed files that b matches."""
    from sqlalchemy import or_
    from sqlalchemy.dialects import postgresql, sqlite

    hinted = search._Likelihood("likely", or_(File.slicer == "a", File.id == 1))
    stmt = select(File.id).where(search._live(), hinted)
    compiled = str(stmt.compile(dialect=(sqlite if dialect == "sqlite" else postgresql).dialect(),
                                compile_kwargs={"literal_binds": True}))
    assert "(files.slicer = 'a' OR files.id = 1)" in compiled, compiled


@pytest.mark.sqlite
def test_insert_or_ignore_of_an_existing_pair_keeps_the_index(files: Database) -> None:
    with files.write() as s:
        row = s.scalars(select(File).where(File.name == "gear.gcode")).one()
        tags.add_tags(s, [row], ["spare"])
        tag_id = s.scalars(select(Tag.id).where(Tag.name_key == "spare")).one()
        s.execute(text("INSERT OR IGNORE INTO file_tags (file_id, tag_id) VALUES (:f, :t)"),
                  {"f": row.id, "t": tag_id})
        integrity_check(s)
    with files.read() as s:
        assert matches(s, "spare") == {"gear.gcode"}
        assert matches(s, "brim") == {"gear.gcode"}


def test_relevance_prefers_the_name(db: Database) -> None:
    """A word in the name outranks the same word in the notes of a file with a longer
    name (plain bm25 with equal weights would rank the short-notes file first)."""
    with db.write() as s:
        add_file(s, "bracket left side v2 final print ready.gcode", notes="")
        add_file(s, "shelf.gcode", notes="bracket")
    with db.read() as s:
        rows, _ = search.search_files(s, search.FileQuery(q="bracket"))
        assert [r.name for r in rows] == ["bracket left side v2 final print ready.gcode", "shelf.gcode"]


@pytest.mark.postgresql
def test_postgresql_upgrade_backfills_and_downgrade_removes(settings: Settings) -> None:
    """Files stored before 0005 are searchable right after the upgrade; going below 0005
    removes the table, its functions and triggers."""
    migrate(settings, "0004")
    database = Database.from_settings(settings)
    try:
        with database.write() as s:
            s.execute(text("INSERT INTO files (name, size, sha256, notes, uploaded_at, parse_status, "
                           "full_scan_done, metadata_json, thumbnail_count, print_count, slicer) VALUES "
                           "('old_benchy.gcode', 1, 'ab', '', '2026-01-01', 'ok', false, '{}', 0, 0, 'Cura')"))
        migrate(settings)
        with database.read() as s:
            integrity_check(s)
            assert matches(s, "old") == {"old_benchy.gcode"}
            assert matches(s, "cura") == {"old_benchy.gcode"}
        downgrade(settings, "0004")
        with database.read() as s:
            left = s.scalars(text("SELECT proname FROM pg_proc WHERE proname LIKE 'files_fts%' UNION "
                                  "SELECT tgname FROM pg_trigger WHERE tgname LIKE 'files_fts%' UNION "
                                  "SELECT relname FROM pg_class WHERE relname LIKE 'files_fts%'")).all()
        assert left == []
    finally:
        database.dispose()


@pytest.mark.parametrize("field", search.FILTER_FIELDS)
def test_every_filter_field_counts_as_a_filter(field: str) -> None:
    """`_unfiltered` reads the fields instead of building the conditions: a filter it missed
    would make the total every file and the sorted page ignore the filter."""
    value = {"kind": ["gcode"], "slicer": ["A"], "filament_type": ["PLA"], "nozzle_diameter": [0.4],
             "printer_model": ["M"], "tag": ["t"], "uploaded_after": utcnow(), "uploaded_before": utcnow(),
             "printed": False, "has_thumbnail": False, "favourite": False}.get(field, 0.0)
    query = search.FileQuery(**{field: value})
    assert not search._unfiltered(query)
    assert len(search.conditions(query)) > 1
    unset = {name: getattr(query, name) for name in search.FILTER_FIELDS if name != field}
    assert all(v is None or v == () for v in unset.values())  # only `field` is set


@pytest.mark.parametrize(("q", "unfiltered"), [(None, True), ("", True), ("  ", True), ("*", True),
                                              ("benchy", False)])
def test_only_a_word_makes_text_a_filter(q: str | None, unfiltered: bool) -> None:
    query = search.FileQuery(q=q)
    assert search._unfiltered(query) is unfiltered
    assert (len(search.conditions(query)) == 1) is unfiltered


def test_filter_fields_are_every_field_but_text_and_paging() -> None:
    from dataclasses import fields

    others = {"q", "sort", "limit", "offset", "no_later_plate"}
    assert {f.name for f in fields(search.FileQuery)} - others == set(search.FILTER_FIELDS)
