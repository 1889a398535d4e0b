"""Property: no query string, filter value or tag name makes search answer a 5xx."""

from collections.abc import Iterator
from typing import Any
from urllib.parse import quote_from_bytes

import pytest
from fastapi.testclient import TestClient
from harness.paths import GCODE_FIXTURES
from harness.vault import add_user_with_key, make_settings, migrate
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from printstash.app import create_app

API = "/api/v1"
PARAMS = ["q", "slicer", "filament_type", "nozzle_diameter", "printer_model", "tag", "layer_height_min",
          "layer_height_max", "estimated_time_min", "estimated_time_max", "uploaded_after",
          "uploaded_before", "printed", "has_thumbnail", "favourite", "sort", "limit", "offset"]
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
NUMBERISH = st.one_of(st.integers(-(2**70), 2**70).map(str), st.floats().map(str),
                      st.sampled_from(["-0", "1e400", "0x10", "", " 5", "NaN", "-inf", "2026-01-01"]))
SORTS = st.sampled_from(["name", "-name", "relevance", "-last_printed", "size", "", "-", "nope"])
VALUES = st.one_of(TEXT, NUMBERISH, SORTS)
QUERY = st.lists(st.tuples(st.sampled_from(PARAMS), VALUES), max_size=6)
EXAMPLES = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    vault = make_settings(tmp_path_factory.mktemp("prop") / "data")
    migrate(vault)
    key = add_user_with_key(vault, "prop", "member", "correct horse battery")
    with TestClient(create_app(vault), headers={"X-Api-Key": key}) as test_client:
        for rel in ("prusaslicer/prusa_cube20_0.20mm_PLA_thumbs.gcode", "cura/cura_cube20_0.20mm_ender3.gcode"):
            path = GCODE_FIXTURES / rel
            assert test_client.post(f"{API}/files", files={"file": (path.name, path.read_bytes())}).status_code == 201
        test_client.post(f"{API}/files/1/tags", json={"tags": ["benchy", "Ünïcode tag"]})
        yield test_client


def assert_clean(answer: Any) -> None:
    assert answer.status_code < 500, answer.text
    if answer.status_code >= 400:
        body = answer.json()
        assert isinstance(body["detail"], str) and isinstance(body["code"], str)


@EXAMPLES
@given(query=QUERY)
def test_search_and_facets_never_5xx(client: TestClient, query: list[tuple[str, str]]) -> None:
    for path in ("/files", "/files/facets"):
        assert_clean(client.get(f"{API}{path}", params=query))


@EXAMPLES
@given(raw=st.binary(max_size=40), key=st.sampled_from(["q", "tag", "slicer", "sort"]))
def test_undecodable_bytes_never_5xx(client: TestClient, raw: bytes, key: str) -> None:
    assert_clean(client.get(f"{API}/files?{key}={quote_from_bytes(raw)}"))


@EXAMPLES
@given(q=TEXT)
def test_text_queries_answer(client: TestClient, q: str) -> None:
    answer = client.get(f"{API}/files", params={"q": q})
    assert answer.status_code == 200, answer.text
    assert answer.json()["total"] == len(answer.json()["items"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(names=st.lists(TEXT, max_size=4))
def test_tag_names_never_5xx(client: TestClient, names: list[str]) -> None:
    answer = client.post(f"{API}/files/2/tags", json={"tags": names})
    assert_clean(answer)
    if answer.status_code == 200:
        assert_clean(client.get(f"{API}/files", params=[("tag", n) for n in names]))
        client.put(f"{API}/files/2/tags", json={"tags": []})
