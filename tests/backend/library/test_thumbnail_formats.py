"""Every thumbnail served is PNG or JPEG: QOI thumbnails (PrusaSlicer's MK4/MINI/XL format,
OrcaSlicer's QOI option) are converted to PNG at ingest, and rows stored by an older version
are served converted until the worker's re-parse rewrites them.

The QOI G-code is the real PrusaSlicer fixture with its PNG thumbnails re-encoded as QOI (the
block shape PrusaSlicer writes with `--thumbnails-format QOI`); the expected pixels and sizes
are those of the fixture's own PNGs and its manifest entry."""

import base64
import io
import re

from fastapi.testclient import TestClient
from harness.packages import qoi_thumbnails
from librarykit import API, fixture_by_id, fixture_path, settings_of, upload
from PIL import Image

from printstash.core.db import Database
from printstash.library import jobs
from printstash.library.models import File

CUBE = fixture_by_id("prusa_cube20_0.20mm_PLA_thumbs")
PNG = b"\x89PNG\r\n\x1a\n"
_BLOCK = re.compile(rb"; thumbnail begin (\d+)x(\d+) \d+\n(.*?); thumbnail end\n", re.DOTALL)


def _png_payloads(data: bytes) -> list[bytes]:
    return [base64.b64decode(b"".join(line[2:] for line in m[3].splitlines())) for m in _BLOCK.finditer(data)]


def _qoi_gcode() -> bytes:
    return qoi_thumbnails(fixture_path(CUBE).read_bytes())


def _pixels(data: bytes) -> bytes:
    return Image.open(io.BytesIO(data)).convert("RGBA").tobytes()


def test_qoi_thumbnails_are_served_as_png_with_the_slicers_pixels(admin_client: TestClient) -> None:
    originals = _png_payloads(fixture_path(CUBE).read_bytes())
    body = upload(admin_client, "cube.gcode", _qoi_gcode()).json()
    expected = [(t["width"], t["height"]) for t in CUBE["thumbnails_injected"]]
    assert [(t["width"], t["height"], t["format"]) for t in body["thumbnails"]] == [(*wh, "png") for wh in expected]
    for thumb, original in zip(body["thumbnails"], originals, strict=True):
        answer = admin_client.get(thumb["url"])
        assert answer.status_code == 200 and answer.headers["content-type"] == "image/png"
        assert answer.content.startswith(PNG) and _pixels(answer.content) == _pixels(original)


def test_qoi_thumbnails_stored_by_an_older_version_are_served_as_png_and_rewritten_by_reparse(
        admin_client: TestClient) -> None:
    settings = settings_of(admin_client)
    body = upload(admin_client, "cube.gcode", _qoi_gcode()).json()
    database = Database.from_settings(settings)
    qoi_files = []
    with database.write() as session:  # as a version before the conversion stored them
        row = session.get(File, body["id"])
        assert row is not None
        for thumb in row.thumbnails:
            png_path = settings.thumbs_dir / thumb.path
            qoi_path = png_path.with_suffix(".qoi")
            Image.open(png_path).save(qoi_path, format="QOI")
            png_path.unlink()
            thumb.format, thumb.path = "qoi", str(qoi_path.relative_to(settings.thumbs_dir))
            qoi_files.append(qoi_path)
    originals = _png_payloads(fixture_path(CUBE).read_bytes())
    for index, original in enumerate(originals):
        answer = admin_client.get(f"{API}/files/{body['id']}/thumbnails/{index}")
        assert answer.headers["content-type"] == "image/png" and _pixels(answer.content) == _pixels(original)
    assert jobs.reparse_file(settings, database, body["id"]) is True
    database.dispose()
    after = admin_client.get(f"{API}/files/{body['id']}").json()
    assert [t["format"] for t in after["thumbnails"]] == ["png"] * len(originals)
    assert not any(path.exists() for path in qoi_files)  # the old QOI files were pruned


def test_an_undecodable_qoi_thumbnail_is_skipped_not_stored(admin_client: TestClient) -> None:
    bogus = base64.b64encode(b"qoif" + (64).to_bytes(4, "big") * 2 + b"\x04\x00" + b"\xff" * 20)
    block = b"; thumbnail_QOI begin 64x64 %d\n; %s\n; thumbnail_QOI end\n" % (len(bogus), bogus)
    data = fixture_path(CUBE).read_bytes()
    data = _BLOCK.sub(b"", data, count=0).replace(b"\n\n", b"\n" + block, 1)
    body = upload(admin_client, "bogus.gcode", data).json()
    assert body["thumbnails"] == []
