"""Pydantic shapes for search, facets, tags and favourites (items reuse schemas.FileRead)."""

from pydantic import BaseModel, Field

from printstash.core.params import BodyId

# Bulk requests are one transaction; the cap keeps them inside SQLite's variable limit.
BULK_MAX_FILES = 5000
TAGS_PER_REQUEST_MAX = 100


class FacetValue(BaseModel):
    value: str | float
    count: int


class Facets(BaseModel):
    """Distinct values with counts among the files matching the query. Each facet ignores
    its own filter (and only its own), so a sidebar can offer the alternatives."""

    total: int
    kind: list[FacetValue]
    slicer: list[FacetValue]
    filament_type: list[FacetValue]
    nozzle_diameter: list[FacetValue]
    printer_model: list[FacetValue]
    tags: list[FacetValue]


class TagRead(BaseModel):
    id: int
    name: str
    file_count: int


class TagCreate(BaseModel):
    name: str = Field(max_length=256)


class TagNames(BaseModel):
    """Tag names; unknown names are created (tags are created on first use)."""

    tags: list[str] = Field(max_length=TAGS_PER_REQUEST_MAX)


class BulkTags(BaseModel):
    file_ids: list[BodyId] = Field(min_length=1, max_length=BULK_MAX_FILES)
    add: list[str] = Field(default_factory=list, max_length=TAGS_PER_REQUEST_MAX)
    remove: list[str] = Field(default_factory=list, max_length=TAGS_PER_REQUEST_MAX)


class BulkTagsResult(BaseModel):
    files: int
    added: int  # (file, tag) pairs that were not there before
    removed: int  # (file, tag) pairs that were there
