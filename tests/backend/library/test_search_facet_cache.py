"""Facets, and the totals of lists without a search text, are kept until the library changes:
every change shows at once."""

from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from harness.paths import GCODE_FIXTURES

API = "/api/v1"


def _fixture(slicer_dir: str) -> Path:
    return sorted((GCODE_FIXTURES / slicer_dir).glob("*.gcode"))[0]


def _facets(client: TestClient) -> dict[str, Any]:
    answer = client.get(f"{API}/files/facets")
    assert answer.status_code == 200, answer.text
    return answer.json()  # type: ignore[no-any-return]


def _counts(facets: dict[str, Any], name: str) -> dict[Any, int]:
    return {item["value"]: item["count"] for item in facets[name]}


def test_cached_facets_follow_uploads_tags_renames_and_trash(admin_client: TestClient) -> None:
    assert _facets(admin_client)["total"] == 0
    prusa = _fixture("prusaslicer")
    created = admin_client.post(f"{API}/files", files={"file": (prusa.name, prusa.read_bytes())})
    assert created.status_code == 201, created.text
    file_id = created.json()["id"]
    first = _facets(admin_client)
    assert first["total"] == 1 and first == _facets(admin_client)  # second call: same answer

    cura = _fixture("cura")
    assert admin_client.post(f"{API}/files", files={"file": (cura.name, cura.read_bytes())}).status_code == 201
    assert _facets(admin_client)["total"] == 2

    assert admin_client.put(f"{API}/files/{file_id}/tags", json={"tags": ["calibration"]}).status_code in (200, 201)
    assert _counts(_facets(admin_client), "tags") == {"calibration": 1}

    tag_id = admin_client.get(f"{API}/tags").json()["items"][0]["id"]
    assert admin_client.patch(f"{API}/tags/{tag_id}", json={"name": "tuning"}).status_code == 200
    assert _counts(_facets(admin_client), "tags") == {"tuning": 1}

    slicer = created.json()["metadata"]["slicer"]
    assert _counts(_facets(admin_client), "slicer")[slicer] == 1
    assert admin_client.delete(f"{API}/files/{file_id}").status_code in (200, 204)
    after = _facets(admin_client)
    assert after["total"] == 1 and slicer not in _counts(after, "slicer") and after["tags"] == []


def test_cached_filtered_facets_follow_changes_and_keep_filter_sets_apart(admin_client: TestClient) -> None:
    prusa, cura = _fixture("prusaslicer"), _fixture("cura")
    created = admin_client.post(f"{API}/files", files={"file": (prusa.name, prusa.read_bytes())})
    assert created.status_code == 201, created.text
    assert admin_client.post(f"{API}/files", files={"file": (cura.name, cura.read_bytes())}).status_code == 201
    file_id, slicer = created.json()["id"], created.json()["metadata"]["slicer"]

    def filtered(**params: Any) -> dict[str, Any]:
        answer = admin_client.get(f"{API}/files/facets", params=params)
        assert answer.status_code == 200, answer.text
        return answer.json()  # type: ignore[no-any-return]

    first = filtered(slicer=slicer)
    assert first["total"] == 1 and first == filtered(slicer=slicer)  # second call: same answer
    assert _counts(first, "slicer") == _counts(_facets(admin_client), "slicer")  # its own filter is off
    assert filtered(slicer="no such slicer")["total"] == 0  # another filter set, another answer
    assert first["tags"] == []

    assert admin_client.put(f"{API}/files/{file_id}/tags", json={"tags": ["calibration"]}).status_code in (200, 201)
    assert _counts(filtered(slicer=slicer), "tags") == {"calibration": 1}
    assert filtered(slicer=slicer, tag="calibration")["total"] == 1

    assert admin_client.delete(f"{API}/files/{file_id}").status_code in (200, 204)
    after = filtered(slicer=slicer)
    assert after["total"] == 0 and after["tags"] == [] and after["kind"] == []


def test_kept_totals_follow_uploads_tags_favourites_and_trash(admin_client: TestClient) -> None:
    """A list's total is kept per filter set (library/search.py, `_COUNTED`): asked again, for
    another page or order, it is the same; after any change to files or tags it is new."""
    prusa = sorted((GCODE_FIXTURES / "prusaslicer").glob("*.gcode"))
    created = admin_client.post(f"{API}/files", files={"file": (prusa[0].name, prusa[0].read_bytes())})
    assert created.status_code == 201, created.text
    cura = _fixture("cura")
    assert admin_client.post(f"{API}/files", files={"file": (cura.name, cura.read_bytes())}).status_code == 201
    file_id, slicer = created.json()["id"], created.json()["metadata"]["slicer"]

    def total(**params: Any) -> int:
        answer = admin_client.get(f"{API}/files", params=params)
        assert answer.status_code == 200, answer.text
        return answer.json()["total"]  # type: ignore[no-any-return]

    assert total(slicer=slicer) == 1 and total(slicer=slicer) == 1
    assert total(slicer=slicer, sort="name", offset=10) == 1  # past the last page, same count
    assert total(slicer="no such slicer") == 0  # another filter set, another count

    again = admin_client.post(f"{API}/files", files={"file": (prusa[1].name, prusa[1].read_bytes())})
    assert again.status_code == 201, again.text
    assert total(slicer=slicer) == 2

    assert total(slicer=slicer, tag="calibration") == 0
    assert admin_client.put(f"{API}/files/{file_id}/tags", json={"tags": ["calibration"]}).status_code == 200
    assert total(slicer=slicer, tag="calibration") == 1

    assert total(slicer=slicer, favourite=True) == 0
    assert admin_client.put(f"{API}/files/{file_id}/favourite").status_code == 200
    assert total(slicer=slicer, favourite=True) == 1

    assert admin_client.delete(f"{API}/files/{file_id}").status_code == 204
    assert total(slicer=slicer) == 1 and total(slicer=slicer, favourite=True) == 0
    assert admin_client.post(f"{API}/files/{file_id}/restore").status_code == 200
    assert total(slicer=slicer) == 2 and total(slicer=slicer, tag="calibration") == 1
