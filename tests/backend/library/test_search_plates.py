"""A multi-plate file matches a filter when one of its plates matches, and the facets count it
under every value a matching plate has (SQLite, and PostgreSQL with VAULT_TEST_DB=postgresql).

The library: a real 3-plate .gcode.3mf (harness/packages.py, Bambu Studio's layout) whose
plates are PrusaSlicer's cube (plate 1), PrusaSlicer's tower (plate 2: another material, nozzle,
layer height and time) and Slic3r's cube (plate 3: another slicer), beside a plain .gcode of
PrusaSlicer's cylinder. Expected values come from the fixtures' manifest entries.
"""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from harness.packages import gcode_3mf
from harness.vault import add_user_with_key, downgrade, make_settings, migrate
from librarykit import API, fixture_by_id, fixture_path, upload
from sqlalchemy import text

from printstash.app import create_app
from printstash.core.db import Database
from printstash.library import search

CUBE = fixture_by_id("prusa_cube20_0.20mm_PLA_thumbs")
TOWER = fixture_by_id("prusa_tower_0.30mm_ABS_0.6n")
SLIC3R = fixture_by_id("slic3r_cube20_0.25mm")
CYLINDER = fixture_by_id("prusa_cylinder_0.15mm_PETG_thumbs")
PLATES = (CUBE, TOWER, SLIC3R)
PACKAGE, PLAIN = "three.gcode.3mf", "cylinder.gcode"
FACET_FILTERS = {"slicer": "slicer", "filament_type": "filament_type", "nozzle_diameter": "nozzle_diameter"}


def want(entry: dict[str, Any], key: str) -> Any:
    return entry["expected"]["slicer_in_file" if key == "slicer" else key]


@contextmanager
def library_of(root: Path, uploads: dict[str, tuple[dict[str, Any], ...]]) -> Iterator[TestClient]:
    """A migrated vault and a member's client of it, holding per name the fixtures given: one
    as a plain .gcode, several as the plates of a .gcode.3mf."""
    settings = make_settings(root / "data")
    migrate(settings)
    key = add_user_with_key(settings, "searcher", "member", "correct horse battery")
    with TestClient(create_app(settings), headers={"X-Api-Key": key}) as client:
        for name, entries in uploads.items():
            gcode = [fixture_path(e).read_bytes() for e in entries]
            answer = upload(client, name, gcode_3mf(gcode) if len(gcode) > 1 else gcode[0])
            assert answer.status_code == 201, answer.text
            if len(gcode) > 1:
                assert [p["index"] for p in answer.json()["plates"]] == list(range(1, len(gcode) + 1))
        yield client


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with library_of(tmp_path_factory.mktemp("plates"), {PACKAGE: PLATES, PLAIN: (CYLINDER,)}) as client:
        yield client


def found(client: TestClient, **params: Any) -> set[str]:
    answer = client.get(f"{API}/files", params=params)
    assert answer.status_code == 200, answer.text
    assert answer.json()["total"] == len(answer.json()["items"])
    return {item["name"] for item in answer.json()["items"]}


def test_a_later_plate_alone_makes_the_file_match(library: TestClient) -> None:
    assert found(library, filament_type=want(TOWER, "filament_type")) == {PACKAGE}
    assert found(library, nozzle_diameter=want(TOWER, "nozzle_diameter")) == {PACKAGE}
    assert found(library, slicer=want(SLIC3R, "slicer")) == {PACKAGE}
    assert found(library, layer_height_min=want(TOWER, "layer_height")) == {PACKAGE}
    assert found(library, estimated_time_min=want(TOWER, "estimated_time_s")) == {PACKAGE}


def test_plate_one_and_plain_files_match_as_before(library: TestClient) -> None:
    assert found(library, filament_type=want(CUBE, "filament_type")) == {PACKAGE}
    assert found(library, filament_type=want(CYLINDER, "filament_type")) == {PLAIN}
    assert found(library, slicer=want(CUBE, "slicer")) == {PACKAGE, PLAIN}
    assert found(library, layer_height_max=want(CYLINDER, "layer_height")) == {PLAIN}
    assert found(library, estimated_time_max=want(CYLINDER, "estimated_time_s")) == {PLAIN}


def test_every_filter_has_to_hold_on_one_and_the_same_plate(library: TestClient) -> None:
    tower_material, tower_nozzle = want(TOWER, "filament_type"), want(TOWER, "nozzle_diameter")
    assert found(library, filament_type=tower_material, nozzle_diameter=tower_nozzle) == {PACKAGE}
    # the tower's material with the cube's nozzle: true of two different plates, of no single one
    assert want(CUBE, "nozzle_diameter") != tower_nozzle
    assert found(library, filament_type=tower_material, nozzle_diameter=want(CUBE, "nozzle_diameter")) == set()
    assert found(library, slicer=want(SLIC3R, "slicer"), layer_height_min=want(SLIC3R, "layer_height"),
                 layer_height_max=want(SLIC3R, "layer_height")) == {PACKAGE}
    assert found(library, slicer=want(SLIC3R, "slicer"), filament_type=want(CUBE, "filament_type")) == set()
    assert found(library, kind="gcode", filament_type=tower_material) == set()
    assert found(library, kind="gcode.3mf", filament_type=tower_material) == {PACKAGE}


def _facets(client: TestClient, **params: Any) -> dict[str, dict[Any, int]]:
    answer = client.get(f"{API}/files/facets", params=params)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    return {name: {v["value"]: v["count"] for v in body[name]} for name in (*FACET_FILTERS, "kind")}


def _expected_counts(files: list[tuple[dict[str, Any], ...]], key: str) -> dict[Any, int]:
    """Per value, how many files have a plate with it (a file counts once per value)."""
    counts: dict[Any, int] = {}
    for plates in files:
        for value in {want(e, key) for e in plates} - {None}:
            counts[value] = counts.get(value, 0) + 1
    return counts


def test_facets_count_a_file_once_under_each_value_of_its_plates(library: TestClient) -> None:
    facets = _facets(library)
    for name in FACET_FILTERS:
        assert facets[name] == _expected_counts([PLATES, (CYLINDER,)], name), name
    assert facets["kind"] == {"gcode.3mf": 1, "gcode": 1}
    # with the tower's nozzle chosen, only the tower plate's values are left
    narrowed = _facets(library, nozzle_diameter=want(TOWER, "nozzle_diameter"))
    assert narrowed["filament_type"] == {want(TOWER, "filament_type"): 1}
    assert narrowed["slicer"] == {want(TOWER, "slicer"): 1}
    assert narrowed["kind"] == {"gcode.3mf": 1}


@pytest.mark.parametrize("params", [{}, {"nozzle_diameter": want(CUBE, "nozzle_diameter")},
                                    {"slicer": want(SLIC3R, "slicer")}, {"kind": "gcode.3mf"},
                                    {"layer_height_max": want(CUBE, "layer_height")}], ids=str)
def test_each_facet_count_is_what_its_filter_finds(library: TestClient, params: dict[str, Any]) -> None:
    for name, values in _facets(library, **params).items():
        for value, count in values.items():
            assert len(found(library, **{**params, name: value})) == count, (params, name, value)


def test_migration_types_the_plates_stored_before_it(tmp_path: Path) -> None:
    """A .gcode.3mf stored at 0009 (plates with metadata JSON only) is found by its plate 2
    after the upgrade to head."""
    settings = make_settings(tmp_path / "data")
    migrate(settings, "0009")
    database = Database.from_settings(settings)
    with database.write() as session:
        session.execute(text(
            "INSERT INTO files (name, size, sha256, notes, uploaded_at, parse_status, full_scan_done, metadata_json, "
            "thumbnail_count, print_count, favourite, kind, filament_type) VALUES ('old.gcode.3mf', 1, :sha, '', "
            "'2026-01-01 00:00:00', 'ok', TRUE, '{}', 0, 0, FALSE, 'gcode.3mf', :first)"),
            {"sha": "b" * 64, "first": want(CUBE, "filament_type")})
        file_id = session.scalar(text("SELECT id FROM files"))
        plates = {1: {"filament_type": want(CUBE, "filament_type")},  # as parsers wrote them: lists, text numbers
                  2: {"filament_type": [want(TOWER, "filament_type")], "nozzle_diameter": "0.6"}}
        for index, fields in plates.items():
            session.execute(text("INSERT INTO file_plates (file_id, \"index\", metadata_json) VALUES (:id, :i, :m)"),
                            {"id": file_id, "i": index, "m": json.dumps(fields)})
    database.dispose()
    migrate(settings)
    key = add_user_with_key(settings, "reader", "member", "correct horse battery")
    with TestClient(create_app(settings), headers={"X-Api-Key": key}) as client:
        assert found(client, filament_type=want(TOWER, "filament_type"), nozzle_diameter=0.6) == {"old.gcode.3mf"}
        assert found(client, filament_type=want(CUBE, "filament_type")) == {"old.gcode.3mf"}
    downgrade(settings, "0009")
    migrate(settings)


@pytest.mark.parametrize("sort", [None, "name", "-size"])
def test_a_search_text_with_plate_filters(library: TestClient, sort: str | None) -> None:
    """A search text with plate filters, the benchmark's `query + two filters`: PostgreSQL checks
    the filters on each text match (search._matches_first), SQLite on each filtered file."""
    order = {"sort": sort} if sort else {}
    tower_material, tower_nozzle = want(TOWER, "filament_type"), want(TOWER, "nozzle_diameter")
    # `gcode` and `three gcode`: words or names (one chunk, two chunks); `cy`: words only
    assert found(library, q="gcode", filament_type=tower_material, nozzle_diameter=tower_nozzle, **order) == {PACKAGE}
    assert found(library, q="gcode", filament_type=tower_material,
                 nozzle_diameter=want(CUBE, "nozzle_diameter"), **order) == set()
    assert found(library, q="gcode", filament_type=want(CYLINDER, "filament_type"), **order) == {PLAIN}
    assert found(library, q="three gcode", filament_type=tower_material, **order) == {PACKAGE}
    assert found(library, q="cy", slicer=want(CUBE, "slicer"), **order) == {PLAIN}
    assert found(library, q="cy", filament_type=tower_material, **order) == set()


def test_a_page_past_the_last_match_still_says_how_many(library: TestClient) -> None:
    answer = library.get(f"{API}/files", params={"q": "gcode", "slicer": want(CUBE, "slicer"), "offset": 5})
    assert answer.status_code == 200 and answer.json() == {"items": [], "total": 2}
    page = library.get(f"{API}/files", params={"q": "gcode", "limit": 1, "offset": 1}).json()
    assert page["total"] == 2 and len(page["items"]) == 1
    # without a text (on PostgreSQL the count then runs beside the page: search._page_beside_count)
    answer = library.get(f"{API}/files", params={"slicer": want(CUBE, "slicer"), "offset": 5})
    assert answer.status_code == 200 and answer.json() == {"items": [], "total": 2}
    page = library.get(f"{API}/files", params={"slicer": want(CUBE, "slicer"), "limit": 1, "offset": 1}).json()
    assert page["total"] == 2 and len(page["items"]) == 1


@pytest.mark.parametrize("params", [
    {}, {"kind": ["gcode"]}, {"slicer": ["PrusaSlicer"]}, {"filament_type": ["PLA", "PETG", "ABS"]},
    {"layer_height_min": 0.25}, {"estimated_time_min": 1.0, "sort": "name"}, {"slicer": ["Slic3r"], "limit": 1},
    {"slicer": ["PrusaSlicer"], "limit": 1, "offset": 1}, {"slicer": ["PrusaSlicer"], "offset": 9}])
def test_the_count_beside_the_page_answers_as_the_count_before_it(library: TestClient, params: dict[str, Any]) -> None:
    """search_files with the Database (as the api calls it) and without (count, then page, on one
    session) give the same page and total. On PostgreSQL the first counts on a second connection
    while the page is read, with its own look-up of the later plates; on SQLite both are one way."""
    db: Database = library.app.state.db  # type: ignore[attr-defined]
    query = search.FileQuery(**params)
    with db.read() as session:
        alone, beside = search.search_files(session, query), search.search_files(session, query, db)
    assert [f.name for f in beside[0]] == [f.name for f in alone[0]] and beside[1] == alone[1]
    assert alone[1] == len(found(library, **{**params, "limit": 50, "offset": 0}))



ASA_CUBES = fixture_by_id("prusa_cube20x4_0.20mm_ASA_labels")
SLIC3R_CYLINDER = fixture_by_id("slic3r_cylinder_0.10mm_0.35n")
PAIRED = {"tower.gcode.3mf": (CUBE, TOWER), "asa.gcode.3mf": (CYLINDER, ASA_CUBES, SLIC3R_CYLINDER)}


@pytest.fixture(scope="module")
def two_packages(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """Two multi-plate packages whose later plates differ in material, nozzle and layer height."""
    with library_of(tmp_path_factory.mktemp("paired"), PAIRED) as client:
        yield client


def _only(entry: dict[str, Any], key: str) -> dict[str, Any]:
    """The filter that passes exactly `entry`'s value of `key`."""
    if key == "layer_height":
        return {"layer_height_min": want(entry, key), "layer_height_max": want(entry, key)}
    return {key: want(entry, key)}


@pytest.mark.parametrize("key", ["filament_type", "nozzle_diameter", "layer_height"])
def test_each_request_binds_its_own_later_plates(two_packages: TestClient, key: str) -> None:
    """Statements of one shape again and again, a later plate of one package or of the other
    passing them: each answer is its own package, in the page and in the count (`found` checks
    the total). Guards SQLAlchemy's statement cache: whatever form the later plates take (their
    own subquery; on branch platelist their file ids as one parameter), a compiled statement
    reused from an earlier request must take this request's values."""
    tower, other = TOWER, ASA_CUBES if key == "filament_type" else SLIC3R_CYLINDER
    assert want(tower, key) != want(other, key)
    assert {want(tower, key), want(other, key)}.isdisjoint({want(CUBE, key), want(CYLINDER, key)})  # not plate 1's
    for sort in (None, "name", None, "name"):
        order = {"sort": sort} if sort else {}
        assert found(two_packages, **_only(tower, key), **order) == {"tower.gcode.3mf"}
        assert found(two_packages, **_only(other, key), **order) == {"asa.gcode.3mf"}
