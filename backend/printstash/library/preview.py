"""The toolpath preview (GET /files/{id}/layers…): a sliced plate's layer index and one
layer's moves, read from the stored bytes of that layer alone.

The index is written at ingest and by the reparse job (library/ingest.py write_layer_index);
a plate stored by an older version gets one from the re-parse every file gets after an
upgrade, or here on first use. Indexes are immutable per content, so each process keeps the
recent ones in memory. A layer's bytes come from the store by range (core/objects.py
read_range: the data volume or a bucket) for a .gcode; a packaged plate's plain G-code is
decoded once into the local cache/plain/ (library/store.py) and read from there, because a
zip member or a .bgcode cannot be entered at an offset.
"""

import gzip
from dataclasses import dataclass
from pathlib import Path

from printstash import gcode
from printstash.core.errors import NotFound
from printstash.core.fastio import fsync_path, read_span
from printstash.core.memo import Memo
from printstash.core.settings import Settings
from printstash.core.storage import content_key, publish, storage_for
from printstash.gcode.layers import Read
from printstash.library import ingest, service, sliced, store
from printstash.library.models import File
from printstash.library.schemas import LayerRead, LayersRead

INDEX_CACHE_SIZE = 64
INDEX_BODY_CACHE_SIZE = 8  # a 50,000-layer index is ~1.4 MB of JSON, ~0.3 MB gzipped
SEGMENT_FORMAT = 1  # bumped when the segment records change: part of every ETag


@dataclass(frozen=True)
class IndexBody:
    """A plate's index as GET /files/{id}/layers sends it, encoded once: for a 50,000-layer file,
    making and validating 50,000 models per request took longer than a layer's whole answer,
    and the preview's first frame waits for the index (bench/preview/bench_preview.py)."""

    json: bytes
    gzipped: bytes


_indexes: Memo[tuple[str, str, int], gcode.LayerIndex] = Memo(INDEX_CACHE_SIZE)
_index_bodies: Memo[tuple[str, str, int], IndexBody] = Memo(INDEX_BODY_CACHE_SIZE)


def etag(row: File, plate: int, number: int) -> str:
    return f'"{row.sha256}-p{plate}-l{number}-v{SEGMENT_FORMAT}"'


def layer_index(settings: Settings, row: File, plate: int) -> gcode.LayerIndex:
    """The plate's index (409 for a model, 404 for a plate it lacks)."""
    sliced.check_plate(row, plate)
    return _indexes.get((str(settings.data_dir), row.sha256, plate),
                        lambda: store.read_layer_index(settings, row.sha256, plate),
                        lambda: _build(settings, row, plate))


def index_body(settings: Settings, row: File, plate: int) -> IndexBody:
    """The plate's index as the api's JSON (LayersRead), plain and gzipped."""
    sliced.check_plate(row, plate)
    return _index_bodies.get((str(settings.data_dir), row.sha256, plate), lambda: None,
                             lambda: _encode(plate, layer_index(settings, row, plate)))


def _encode(plate: int, index: gcode.LayerIndex) -> IndexBody:
    read = LayersRead(plate=plate, count=len(index), features=list(gcode.FEATURES),
                      layers=[LayerRead(index=i, z=round(z, 4)) for i, z in enumerate(index.zs)])
    data = read.model_dump_json().encode()
    return IndexBody(data, gzip.compress(data, compresslevel=6, mtime=0))


def indexed_layer(settings: Settings, row: File, plate: int, number: int) -> gcode.LayerIndex:
    """The plate's index, once layer `number` is known to be in it (404 `layer_not_found`)."""
    index = layer_index(settings, row, plate)
    if number >= len(index):
        raise NotFound(f"plate {plate} of file {row.id} has {len(index)} layers; there is no layer {number}",
                       code="layer_not_found")
    return index


def layer_segments(settings: Settings, row: File, plate: int, index: gcode.LayerIndex, number: int) -> bytes:
    """Layer `number`'s moves (gcode.RECORD segments), from its stored bytes only."""
    return gcode.layer_segments(index, number, _reader(settings, row, plate))


def _build(settings: Settings, row: File, plate: int) -> gcode.LayerIndex:
    """Index a plate stored without one (before its re-parse job ran)."""
    if row.kind == "gcode":
        with service.local_content(settings, row.sha256) as path:
            index = gcode.build_index(path, gcode.scan_file(path).layers)
    else:
        path = _plain(settings, row, plate)
        index = gcode.build_index(path, gcode.scan_file(path).layers)
    fields = next((p.metadata_json for p in row.plates if p.index == plate), {})
    index = ingest.declared_layers(index, fields)
    store.write_layer_index(settings, row.sha256, plate, index)
    return index


def _reader(settings: Settings, row: File, plate: int) -> Read:
    if row.kind == "gcode":
        return lambda start, end: _stored_range(settings, row, start, end)
    path = _plain(settings, row, plate)
    return lambda start, end: read_span(path, start, end)


def _stored_range(settings: Settings, row: File, start: int, end: int) -> bytes:
    if end <= start:
        return b""
    try:
        body = storage_for(settings).read_range(content_key(row.sha256), start, end - 1)
    except ValueError:  # past the end: the index does not fit this content
        return b""
    if body is None:
        raise NotFound(f"the content of file {row.id} is missing from storage", code="content_missing")
    return b"".join(body.chunks)


def _plain(settings: Settings, row: File, plate: int) -> Path:
    """The cached plain G-code of a packaged plate, decoded into the cache on first use."""
    path = store.plain_cache_path(settings, row.sha256, plate)
    if path.is_file():
        store.touch_plain(path)  # recently used: kept by the cache's eviction
        return path
    plain = sliced.plain_gcode(settings, row, plate)  # a flock'ed .part in tmp/ (same volume)
    try:
        fsync_path(plain.path)
        publish(plain.path, path)
    finally:
        plain.release()
    return path
