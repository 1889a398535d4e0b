"""Pydantic shapes of the library domain's HTTP answers and requests."""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from printstash.core.params import BodyId
from printstash.library.search_schemas import BULK_MAX_FILES

API_PREFIX = "/api/v1"
# The bounded parse of an upload: "ok" (parse_error may still carry warnings, e.g. a bad
# thumbnail) or "error" (nothing could be read). Full-file facts may come later from a job.
ParseStatus = Literal["ok", "error"]


class ThumbnailRead(BaseModel):
    index: int
    width: int
    height: int
    format: str
    size: int
    url: str


class PlateRead(BaseModel):
    """One sliced plate: its own G-code's metadata (same keys as the file's) and thumbnails."""

    index: int
    metadata: dict[str, Any]
    thumbnails: list[ThumbnailRead]


class ModelRead(BaseModel):
    """A model's mesh facts (stl, obj, 3mf), as a slicer reports them."""

    triangles: int
    size_mm: list[float] = Field(min_length=3, max_length=3)  # bounding box: x, y, z
    volume_mm3: float
    watertight: bool  # closed: every edge shared by exactly two triangles


class FileRead(BaseModel):
    id: int
    name: str
    size: int
    sha256: str
    # by content: gcode | bgcode | gcode.3mf | ufp (sliced) | stl | obj | 3mf (models)
    kind: str
    uploaded_at: datetime
    notes: str
    favourite: bool
    tags: list[str]
    parse_status: ParseStatus
    parse_error: str | None
    metadata: dict[str, Any]  # plate 1's for a sliced kind
    thumbnails: list[ThumbnailRead]
    plates: list[PlateRead]  # sliced kinds: one per plate (a plain .gcode has one); models: none
    model: ModelRead | None = None  # models only (None too while a model is too large to analyse)
    print_count: int
    last_printed_at: datetime | None
    last_print_result: str | None
    deleted_at: datetime | None = None  # set while the file is in the trash
    # only set on an upload answer: True when the content was already stored
    duplicate: bool | None = None


class ErrorRead(BaseModel):
    """The one error shape (documented here for the OpenAPI client)."""

    detail: str
    code: str


class FileUpdate(BaseModel):
    """PATCH /files/{id}: only the fields given are changed."""

    name: str | None = Field(default=None, min_length=1, max_length=1024)
    notes: str | None = Field(default=None, max_length=65536)


class ReparseQueued(BaseModel):
    """A library.reparse job was queued (the worker runs it)."""

    queued: bool = True
    file_id: int | None  # None: every stored file


class FileIds(BaseModel):
    """A selection of files; one transaction, all or nothing."""

    model_config = ConfigDict(extra="forbid")

    file_ids: list[BodyId] = Field(min_length=1, max_length=BULK_MAX_FILES)


class FilesChanged(BaseModel):
    files: int


class TrashEmptied(BaseModel):
    purged: int


class LayerRead(BaseModel):
    index: int  # 0-based
    z: float  # mm


class LayersRead(BaseModel):
    """A sliced plate's layer index: GET /files/{id}/layers/{index} gives one layer's moves."""

    plate: int
    count: int
    features: list[str]  # the legend: feature code i of the segments is features[i]
    layers: list[LayerRead]


def file_url(file_id: int) -> str:
    return f"{API_PREFIX}/files/{file_id}"


def thumbnail_url(file_id: int, index: int) -> str:
    return f"{file_url(file_id)}/thumbnails/{index}"


class LibraryPreferences(BaseModel):
    """Library-wide display settings an admin chooses for everyone (GET/PUT /library/preferences)."""

    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$",
                                 description="ISO 4217 code of the slicers' filament cost, e.g. EUR; "
                                             "null shows costs as bare numbers (slicers write no currency)")
