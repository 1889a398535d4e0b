"""GET /api/v1/files and /files/facets over the real slicer corpus, uploaded through POST /files.

Expected values come from tests/fixtures/gcode/manifest.json (what the slicers printed and
what Moonraker 0.11.0's metadata parser read), never from PrintStash's own answers.
"""

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from harness.paths import GCODE_FIXTURES
from harness.vault import add_user_with_key, make_settings, migrate
from sqlalchemy import Engine, event, select

from printstash.app import create_app
from printstash.core.db import Database
from printstash.library import search as search_module
from printstash.library import service as library_service
from printstash.library.models import File

API = "/api/v1"
ENTRIES: list[dict[str, Any]] = json.loads((GCODE_FIXTURES / "manifest.json").read_text())["files"]


def name_of(entry: dict[str, Any]) -> str:
    return Path(entry["file"]).name


def moonraker(entry: dict[str, Any], key: str) -> Any:
    return (entry.get("moonraker_0_11_metadata") or {}).get(key)


def names(answer: Any) -> set[str]:
    assert answer.status_code == 200, answer.text
    return {item["name"] for item in answer.json()["items"]}


def tag_of(entry: dict[str, Any]) -> str:
    """A tag per model (cube20, cylinder, …), so several files share each tag."""
    return "model-" + Path(entry["model"]).stem if entry.get("model") else "model-none"


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """Every fixture uploaded once, tagged by its model; read-only for the tests below."""
    settings = make_settings(tmp_path_factory.mktemp("search") / "data")
    migrate(settings)
    key = add_user_with_key(settings, "searcher", "member", "correct horse battery")
    with TestClient(create_app(settings), headers={"X-Api-Key": key}) as client:
        for entry in ENTRIES:
            path = GCODE_FIXTURES / entry["file"]
            answer = client.post(f"{API}/files", files={"file": (path.name, path.read_bytes())})
            assert answer.status_code == 201, answer.text
            tagged = client.post(f"{API}/files/{answer.json()['id']}/tags", json={"tags": [tag_of(entry)]})
            assert tagged.status_code == 200, tagged.text
        yield client


def search(client: TestClient, **params: Any) -> Any:
    return client.get(f"{API}/files", params={"limit": 200, **params})


# ---- finding each fixture --------------------------------------------------------------------

@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: e["id"])
def test_find_by_name_word_and_prefix(corpus: TestClient, entry: dict[str, Any]) -> None:
    model_word = Path(entry["model"]).stem if entry.get("model") else entry["id"].split("_")[1]
    assert name_of(entry) in names(search(corpus, q=model_word))
    assert name_of(entry) in names(search(corpus, q=model_word[:3].upper()))  # prefix, any case
    assert name_of(entry) in names(search(corpus, q=entry["id"]))


def test_name_search_is_precise(corpus: TestClient) -> None:
    assert names(search(corpus, q="griffin")) == {"cura_cylinder_0.15mm_ultimakerS3_griffin.gcode"}
    assert names(search(corpus, q="rawengine")) == {"cura_cube20_0.20mm_ender3_rawengine.gcode"}
    assert names(search(corpus, q="dwell")) == {"klipper_dwell_only.gcode"}
    expected = {name_of(e) for e in ENTRIES if "ender3" in e["id"]}
    assert names(search(corpus, q="ender3")) == expected
    assert names(search(corpus, q="zzzz-no-such-word")) == set()


@pytest.mark.parametrize("slicer", sorted({moonraker(e, "slicer") for e in ENTRIES} - {None}))
def test_find_by_slicer(corpus: TestClient, slicer: str) -> None:
    expected = {name_of(e) for e in ENTRIES if moonraker(e, "slicer") == slicer}
    assert names(search(corpus, slicer=slicer)) == expected
    assert expected <= names(search(corpus, q=slicer.lower()))


@pytest.mark.parametrize("material", sorted({e["expected"].get("filament_type") for e in ENTRIES} - {None}))
def test_find_by_material(corpus: TestClient, material: str) -> None:
    expected = {name_of(e) for e in ENTRIES if e["expected"].get("filament_type") == material}
    assert names(search(corpus, filament_type=material)) == expected
    # full text also finds files that only say it in their name (cura_tower_…_PETG)
    in_name = {name_of(e) for e in ENTRIES if material.lower() in e["id"].lower()}
    assert expected | in_name <= names(search(corpus, q=material.lower()))


@pytest.mark.parametrize("tag", sorted({tag_of(e) for e in ENTRIES}))
def test_find_by_tag(corpus: TestClient, tag: str) -> None:
    expected = {name_of(e) for e in ENTRIES if tag_of(e) == tag}
    assert names(search(corpus, tag=tag)) == expected
    assert names(search(corpus, tag=tag.upper())) == expected  # tag names ignore case
    assert names(search(corpus, q=tag)) == expected


def test_combined_filters(corpus: TestClient) -> None:
    def wanted(e: dict[str, Any]) -> bool:
        layer = e["expected"].get("layer_height")
        return (moonraker(e, "slicer") == "PrusaSlicer" and e["expected"].get("filament_type") == "PLA"
                and layer is not None and layer <= 0.2)
    expected = {name_of(e) for e in ENTRIES if wanted(e)}
    assert len(expected) >= 2
    got = names(search(corpus, slicer="PrusaSlicer", filament_type="PLA", layer_height_max=0.2))
    assert got == expected
    assert names(search(corpus, q="cube20", slicer="PrusaSlicer", filament_type="PLA",
                        layer_height_max=0.2)) == {n for n in expected if "cube20" in n}


def test_list_filters_are_alternatives(corpus: TestClient) -> None:
    expected = {name_of(e) for e in ENTRIES if e["expected"].get("filament_type") in ("ABS", "ASA")}
    assert names(search(corpus, filament_type=["ABS", "ASA"])) == expected


def test_range_filters(corpus: TestClient) -> None:
    # the files whose layer height both the slicer and Moonraker state
    layers = {name_of(e): e["expected"].get("layer_height") for e in ENTRIES
              if e["expected"].get("layer_height") is not None
              and e["expected"].get("layer_height") == moonraker(e, "layer_height")}
    inside = {n for n, h in layers.items() if 0.1 <= h <= 0.2}
    got = names(search(corpus, layer_height_min=0.1, layer_height_max=0.2))
    assert inside <= got and not (got & (set(layers) - inside)) and len(inside) >= 5
    nozzles = {name_of(e) for e in ENTRIES if e["expected"].get("nozzle_diameter") == 0.6}
    assert names(search(corpus, nozzle_diameter=0.6)) == nozzles


def test_estimated_time_filter(corpus: TestClient) -> None:
    # the files whose time the slicer printed and Moonraker read alike
    times = {name_of(e): e["expected"]["estimated_time_s"] for e in ENTRIES
             if e["expected"].get("estimated_time_s") is not None
             and e["expected"]["estimated_time_s"] == moonraker(e, "estimated_time")}
    long_ones = {n for n, t in times.items() if t >= 2000}
    got = names(search(corpus, estimated_time_min=2000))
    assert long_ones <= got and not (got & (set(times) - long_ones)) and len(long_ones) >= 2


def test_has_thumbnail(corpus: TestClient) -> None:
    with_thumbs = {name_of(e) for e in ENTRIES if e["expected"].get("thumbnails")}
    assert names(search(corpus, has_thumbnail=True)) == with_thumbs
    assert names(search(corpus, has_thumbnail=False)) == {name_of(e) for e in ENTRIES} - with_thumbs


def test_uploaded_window(corpus: TestClient) -> None:
    now = datetime.now(UTC)
    everything = {name_of(e) for e in ENTRIES}
    assert names(search(corpus, uploaded_after=(now - timedelta(hours=1)).isoformat())) == everything
    assert names(search(corpus, uploaded_after=(now + timedelta(hours=1)).isoformat())) == set()
    naive = (now + timedelta(hours=1)).replace(tzinfo=None).isoformat()  # a naive time means UTC
    assert names(search(corpus, uploaded_before=naive)) == everything


def test_items_carry_metadata_inline(corpus: TestClient) -> None:
    entry = next(e for e in ENTRIES if e["id"] == "prusa_cube20_0.20mm_PLA_thumbs")
    item = search(corpus, q="cube20 thumbs").json()["items"][0]
    assert item["name"] == name_of(entry)
    assert item["metadata"]["filament_type"] == entry["expected"]["filament_type"]
    assert item["metadata"]["layer_height"] == entry["expected"]["layer_height"]
    assert [t["width"] for t in item["thumbnails"]] == [t["width"] for t in entry["expected"]["thumbnails"]]
    assert item["tags"] == [tag_of(entry)]


# ---- sorting and pages -----------------------------------------------------------------------

@pytest.mark.parametrize("sort", ["last_printed", "-last_printed", "filament_total", "-filament_total",
                                  "name", "-uploaded_at", "size", "-estimated_time"])
def test_pages_are_stable_under_ties(corpus: TestClient, sort: str) -> None:
    """No file twice and none missed when walking pages, even when every key is equal
    (no file has been printed, so last_printed ties everywhere)."""
    seen: list[str] = []
    for offset in range(0, len(ENTRIES) + 4, 4):
        page = corpus.get(f"{API}/files", params={"sort": sort, "limit": 4, "offset": offset})
        assert page.status_code == 200, page.text
        assert page.json()["total"] == len(ENTRIES)
        seen += [item["name"] for item in page.json()["items"]]
    assert sorted(seen) == sorted(name_of(e) for e in ENTRIES)


@pytest.mark.parametrize("sort", ["last_printed", "-estimated_time", "name", "-uploaded_at", "filament_total"])
def test_pages_are_stable_with_a_broad_filter(corpus: TestClient, sort: str) -> None:
    """Broad filters page by walking the sort key's index (a planner hint): same guarantee."""
    expected = {name_of(e) for e in ENTRIES if not e["expected"].get("thumbnails")}
    seen: list[str] = []
    for offset in range(0, len(ENTRIES), 3):
        page = corpus.get(f"{API}/files", params={"sort": sort, "limit": 3, "offset": offset,
                                                  "has_thumbnail": False})
        assert page.status_code == 200 and page.json()["total"] == len(expected)
        seen += [item["name"] for item in page.json()["items"]]
    assert sorted(seen) == sorted(expected)


@pytest.mark.parametrize("sort", ["name", "-name", "last_printed", "-estimated_time", "filament_total", "-uploaded_at"])
def test_walking_the_sort_index_changes_no_answer(corpus: TestClient, sort: str) -> None:
    from printstash.library import search as search_module

    database = Database.from_settings(corpus.app.state.settings)  # type: ignore[attr-defined]
    query = search_module.FileQuery(has_thumbnail=False, sort=sort, limit=200)
    try:
        with database.read() as session:
            dialect = session.get_bind().dialect.name
            walked = list(session.scalars(search_module._page(query, dialect, walk_sort_index=True)))
            planned = list(session.scalars(search_module._page(query, dialect, walk_sort_index=False)))
    finally:
        database.dispose()
    assert walked == planned and len(walked) == sum(not e["expected"].get("thumbnails") for e in ENTRIES)


def test_sort_orders(corpus: TestClient) -> None:
    by_name = [i["name"] for i in search(corpus, sort="name").json()["items"]]
    assert by_name == sorted(by_name)
    assert [i["name"] for i in search(corpus, sort="-name").json()["items"]] == by_name[::-1]
    sizes = {name_of(e): e["size_bytes"] for e in ENTRIES}
    by_size = [i["name"] for i in search(corpus, sort="-size").json()["items"]]
    assert [sizes[n] for n in by_size] == sorted(sizes.values(), reverse=True)
    times = [i["metadata"].get("estimated_time") for i in search(corpus, sort="estimated_time").json()["items"]]
    known = [t for t in times if t is not None]
    assert known == sorted(known) and times[: len(known)] == known  # unknown times last


def test_relevance_is_default_with_text(corpus: TestClient) -> None:
    items = search(corpus, q="cube20").json()["items"]
    assert items and all("cube20" in i["name"] for i in items)
    assert search(corpus, q="cube20", sort="relevance").status_code == 200


@pytest.mark.parametrize("q", [None, "", "   "])
def test_relevance_without_text_lists_newest_first(corpus: TestClient, q: str | None) -> None:
    answer = search(corpus, q=q, sort="relevance")
    assert answer.status_code == 200, answer.text
    newest = search(corpus, sort="-uploaded_at").json()
    assert answer.json() == newest and newest["total"] == len(ENTRIES)
    assert corpus.get(f"{API}/files/facets", params={"sort": "relevance"}).status_code == 200


def test_no_per_item_queries(corpus: TestClient) -> None:
    """A page of 15 costs the same number of SQL statements as a page of 1."""
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(args[2])

    counts = []
    for limit in (1, len(ENTRIES)):
        statements.clear()
        event.listen(Engine, "before_cursor_execute", record)
        try:
            assert len(search(corpus, limit=limit).json()["items"]) == limit
        finally:
            event.remove(Engine, "before_cursor_execute", record)
        counts.append(len(statements))
    assert counts[0] == counts[1] and counts[0] > 0, counts


def test_queries_of_one_shape_each_get_their_own_files(corpus: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    """A list's statements are built once per shape of query and run with each query's values
    (library/search.py, `_prepared`). Queries of one shape, one after another and then again,
    each find their own files; and no statement of the sweep binds a value of its own (which
    would leave it built anew per query, logged as an error)."""
    caplog.set_level(logging.ERROR, logger=search_module.__name__)
    by_material = {m: {name_of(e) for e in ENTRIES if e["expected"].get("filament_type") == m}
                   for m in {e["expected"].get("filament_type") for e in ENTRIES} - {None}}
    by_nozzle = {n: {name_of(e) for e in ENTRIES if e["expected"].get("nozzle_diameter") == n}
                 for n in {e["expected"].get("nozzle_diameter") for e in ENTRIES} - {None}}
    by_word = {"griffin": {"cura_cylinder_0.15mm_ultimakerS3_griffin.gcode"},
               "rawengine": {"cura_cube20_0.20mm_ender3_rawengine.gcode"}, "dwell": {"klipper_dwell_only.gcode"}}
    assert len(by_material) >= 3 and len(by_nozzle) >= 2
    every = sorted(name_of(e) for e in ENTRIES)
    for _ in range(2):
        for material, expected in sorted(by_material.items()):
            assert names(search(corpus, filament_type=material)) == expected
            assert names(search(corpus, filament_type=material, sort="name")) == expected
        for nozzle, expected in sorted(by_nozzle.items()):
            assert names(search(corpus, nozzle_diameter=nozzle)) == expected
        for word, expected in by_word.items():
            assert names(search(corpus, q=word)) == expected
            assert names(search(corpus, q=word, sort="-size", has_thumbnail=False)) == expected - names(
                search(corpus, has_thumbnail=True))
        for offset in (0, 3, 6):
            page = search(corpus, sort="name", limit=3, offset=offset).json()["items"]
            assert [item["name"] for item in page] == every[offset:offset + 3]
    sweep = [{"tag": tag_of(ENTRIES[0]), "q": "cube"}, {"layer_height_min": 0.1, "estimated_time_max": 1e6},
             {"uploaded_before": datetime.now(UTC).isoformat(), "printed": False, "favourite": False},
             {"q": "ender3 cube", "kind": "gcode", "slicer": "Cura"}, {"q": "be x", "sort": "relevance"}]
    for params in sweep:
        assert search(corpus, **params).status_code == 200
    assert not caplog.records, caplog.text


def test_a_statement_binding_a_value_of_its_own_is_not_kept(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A statement with a value not among the query's parameters would answer every later query
    of its shape with the first one's value: it is built again each time, and logged."""
    settings = make_settings(tmp_path / "data")
    migrate(settings)
    database, built = Database.from_settings(settings), []

    def build(size: int) -> Any:
        built.append(size)
        return select(File.id).where(File.size > size)

    query = search_module.FileQuery(slicer=["PrusaSlicer"])
    with database.read() as session, caplog.at_level(logging.ERROR, logger=search_module.__name__):
        first = search_module._prepared(session, query, "a test's", lambda: build(5))
        second = search_module._prepared(session, query, "a test's", lambda: build(7))
    assert built == [5, 7] and first is not second
    assert "not kept for its shape" in caplog.text and "size_1" in caplog.text
    caplog.clear()  # logged on purpose: not a statement of the list (conftest.py)
    with database.read() as session:  # the query's own value, named: kept and reused
        kept = [search_module._prepared(session, query, "a test's named", lambda: select(File.id).where(
            File.slicer.in_(search_module._bound(query, "slicer", File.slicer.type)))) for _ in range(2)]
    assert kept[0] is kept[1]
    database.dispose()


# ---- facets ----------------------------------------------------------------------------------

def facet(answer: Any, name: str) -> dict[Any, int]:
    assert answer.status_code == 200, answer.text
    return {v["value"]: v["count"] for v in answer.json()[name]}


def count_by(values: list[Any]) -> dict[Any, int]:
    return {v: values.count(v) for v in set(values) - {None, ""}}


def test_facet_counts(corpus: TestClient) -> None:
    answer = corpus.get(f"{API}/files/facets")
    assert answer.json()["total"] == len(ENTRIES)
    assert facet(answer, "filament_type") == count_by([e["expected"].get("filament_type") for e in ENTRIES])
    assert facet(answer, "tags") == count_by([tag_of(e) for e in ENTRIES])
    slicers = facet(answer, "slicer")
    for name, count in count_by([moonraker(e, "slicer") for e in ENTRIES]).items():
        assert slicers[name] == count
    nozzles = facet(answer, "nozzle_diameter")
    for size, count in count_by([e["expected"].get("nozzle_diameter") for e in ENTRIES]).items():
        assert nozzles[size] >= count  # we may read a nozzle the manifest does not name


def test_facets_follow_the_query_but_not_their_own_filter(corpus: TestClient) -> None:
    answer = corpus.get(f"{API}/files/facets", params={"slicer": "Cura"})
    cura = [e for e in ENTRIES if moonraker(e, "slicer") == "Cura"]
    assert answer.json()["total"] == len(cura)
    assert facet(answer, "slicer")["PrusaSlicer"] == count_by([moonraker(e, "slicer") for e in ENTRIES])["PrusaSlicer"]
    assert facet(answer, "tags") == count_by([tag_of(e) for e in cura])
    pla = corpus.get(f"{API}/files/facets", params={"q": "cube20"})
    assert pla.json()["total"] == sum("cube20" in e["id"] for e in ENTRIES)
    assert corpus.get(f"{API}/files/facets", params={"q": "((("}).json()["total"] == 0


# ---- bad input -------------------------------------------------------------------------------

@pytest.mark.parametrize("params", [
    {"sort": "bogus"}, {"sort": "-"}, {"sort": "--name"}, {"limit": -1},
    {"limit": 0}, {"limit": 201}, {"limit": "ten"}, {"offset": -1},
    {"layer_height_min": 0.3, "layer_height_max": 0.1}, {"estimated_time_min": 10, "estimated_time_max": 5},
    {"uploaded_after": "2026-02-01T00:00:00Z", "uploaded_before": "2026-01-01T00:00:00Z"},
    {"uploaded_after": "yesterday"}, {"nozzle_diameter": "wide"}, {"nozzle_diameter": "nan"},
    {"layer_height_min": "nan"},
    {"estimated_time_max": "inf"}, {"printed": "maybe"}, {"q": "x" * 501},
])
def test_bad_parameters_are_422(corpus: TestClient, params: dict[str, Any]) -> None:
    for path in ("/files", "/files/facets"):
        answer = corpus.get(f"{API}{path}", params=params)
        assert answer.status_code == 422, (path, params, answer.text)
        body = answer.json()
        assert body["detail"] and body["code"] in {"validation_error", "invalid_sort", "invalid_range"}


def test_needs_authentication(app_client: TestClient) -> None:
    for path in ("/files", "/files/facets", "/tags"):
        answer = app_client.get(f"{API}{path}")
        assert answer.status_code == 401 and answer.json()["code"] == "not_authenticated"


def test_printed_filter_and_last_printed_sort(corpus: TestClient) -> None:
    settings = corpus.app.state.settings  # type: ignore[attr-defined]
    target = next(iter(search(corpus, q="griffin").json()["items"]))
    database = Database.from_settings(settings)
    try:
        with database.write() as session:
            library_service.record_print(session, target["id"], datetime.now(UTC), "completed")
        assert names(search(corpus, printed=True)) == {target["name"]}
        assert target["name"] not in names(search(corpus, printed=False))
        assert search(corpus, sort="-last_printed").json()["items"][0]["name"] == target["name"]
        assert search(corpus, sort="last_printed").json()["items"][0]["name"] == target["name"]  # nulls last
    finally:
        with database.write() as session:  # the corpus is shared: undo
            row = library_service.get_file(session, target["id"])
            row.print_count, row.last_printed_at, row.last_print_result = 0, None, None
        database.dispose()
