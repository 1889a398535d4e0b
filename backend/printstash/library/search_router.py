"""GET /files (search, filters, sort), /files/facets, tags and favourites.

Included before router.py so that `/files/facets` is not taken for `/files/{id}`.
Favourites: PUT /files/{id}/favourite marks, DELETE unmarks; both answer the FileRead.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Response, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, FiniteFloat

from printstash.auth.dependencies import CurrentUser
from printstash.core.deps import DatabaseDep, ReadSession, WriteSession
from printstash.core.pagination import Page
from printstash.core.params import Moment, Offset, RowId
from printstash.library import search, service, tags
from printstash.library.schemas import FileRead
from printstash.library.search_schemas import BulkTags, BulkTagsResult, Facets, TagCreate, TagNames, TagRead

router = APIRouter(tags=["library"])

LIMIT_MAX = 200
Number = Annotated[float | None, Query(allow_inf_nan=False)]
Names = Annotated[list[str], Query(max_length=50)]


async def file_query(  # one parameter per documented filter; async: no I/O, so no thread hop (core/deps.py)
    q: Annotated[str | None, Query(max_length=500, description="words; prefixes match")] = None,
    kind: Annotated[list[str], Query(max_length=10, description="gcode, bgcode, gcode.3mf, ufp, stl, obj, 3mf")] = [],  # noqa: B006 - FastAPI copies defaults
    slicer: Names = [],  # noqa: B006
    filament_type: Names = [],  # noqa: B006
    nozzle_diameter: Annotated[list[FiniteFloat], Query(max_length=50)] = [],  # noqa: B006
    printer_model: Names = [],  # noqa: B006
    tag: Names = [],  # noqa: B006
    layer_height_min: Number = None,
    layer_height_max: Number = None,
    estimated_time_min: Number = None,
    estimated_time_max: Number = None,
    uploaded_after: Moment | None = None,
    uploaded_before: Moment | None = None,
    printed: bool | None = None,
    has_thumbnail: bool | None = None,
    favourite: bool | None = None,
    sort: Annotated[str | None, Query(max_length=40, description=(
        "name, uploaded_at, size, estimated_time, filament_total, last_printed or relevance; "
        "'-' prefix for descending. Default (and relevance without q): relevance with q, "
        "else -uploaded_at"))] = None,
    limit: Annotated[int, Query(ge=1, le=LIMIT_MAX)] = 50,
    offset: Offset = 0,
) -> search.FileQuery:
    if sort == "relevance" and not (q and q.strip()):
        # Best match ranks words; without any it means browsing, so newest first. A
        # bookmarked `?sort=relevance` whose search box was emptied still lists the library.
        sort = None
    return search.FileQuery(
        q=q, kind=kind, slicer=slicer, filament_type=filament_type, nozzle_diameter=nozzle_diameter,
        printer_model=printer_model, tag=tag, layer_height_min=layer_height_min,
        layer_height_max=layer_height_max, estimated_time_min=estimated_time_min,
        estimated_time_max=estimated_time_max, uploaded_after=uploaded_after,
        uploaded_before=uploaded_before, printed=printed, has_thumbnail=has_thumbnail,
        favourite=favourite, sort=sort, limit=limit, offset=offset,
    )


FileQueryDep = Annotated[search.FileQuery, Depends(file_query)]


# ---- search ----------------------------------------------------------------------------------

def _json(model: BaseModel) -> Response:
    # The models are built and validated here already; answering them directly skips
    # FastAPI's second validation + jsonable_encoder pass over 50 metadata dicts.
    return Response(model.model_dump_json(), media_type="application/json")


@router.get("/files", response_model=Page[FileRead])
def list_files(query: FileQueryDep, session: ReadSession, db: DatabaseDep, user: CurrentUser) -> Response:
    """Search and filter the library (trashed files excluded). List filters may repeat
    (`slicer=A&slicer=B` means either); different filters must all hold."""
    items, total = search.search_files(session, query, db)
    return _json(Page[FileRead](items=items, total=total))


@router.get("/files/facets", response_model=Facets)
def file_facets(query: FileQueryDep, session: ReadSession, user: CurrentUser) -> Response:
    """Distinct values with counts among the matching files, for a filter sidebar."""
    return _json(search.facets(session, query))


# ---- tags ------------------------------------------------------------------------------------

@router.get("/tags", response_model=Page[TagRead])
def list_tags(session: ReadSession, user: CurrentUser) -> Page[TagRead]:
    items = tags.list_tags(session)
    return Page[TagRead](items=items, total=len(items))


@router.post("/tags", response_model=TagRead, status_code=status.HTTP_201_CREATED,
             responses={200: {"model": TagRead, "description": "the tag already existed"}})
def create_tag(body: TagCreate, session: WriteSession, user: CurrentUser) -> JSONResponse:
    tag, created = tags.create_tag(session, body.name)
    answer = tags.tag_read(session, tag).model_dump()
    return JSONResponse(answer, status_code=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


@router.post("/tags/bulk", response_model=BulkTagsResult)
def bulk_tags(body: BulkTags, session: WriteSession, user: CurrentUser) -> BulkTagsResult:
    """Add and/or remove tags on many files in one transaction (all ids must exist)."""
    files = tags.live_files(session, body.file_ids)
    removed = tags.remove_tags(session, files, body.remove)
    added = tags.add_tags(session, files, body.add)
    return BulkTagsResult(files=len(files), added=added, removed=removed)


@router.patch("/tags/{tag_id}", response_model=TagRead)
def rename_tag(tag_id: RowId, body: TagCreate, session: WriteSession, user: CurrentUser) -> TagRead:
    return tags.tag_read(session, tags.rename_tag(session, tag_id, body.name))


@router.delete("/tags/{tag_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_tag(tag_id: RowId, session: WriteSession, user: CurrentUser) -> Response:
    tags.delete_tag(session, tag_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


# ---- a file's tags and favourite -------------------------------------------------------------

@router.put("/files/{file_id}/tags", response_model=FileRead)
def set_file_tags(file_id: RowId, body: TagNames, session: WriteSession, user: CurrentUser) -> FileRead:
    """Replace the file's tags with these names."""
    file = service.get_file(session, file_id)
    tags.set_tags(session, file, body.tags)
    return service.to_read(file)


@router.post("/files/{file_id}/tags", response_model=FileRead)
def add_file_tags(file_id: RowId, body: TagNames, session: WriteSession, user: CurrentUser) -> FileRead:
    file = service.get_file(session, file_id)
    tags.add_tags(session, [file], body.tags)
    return service.to_read(file)


@router.delete("/files/{file_id}/tags/{name:path}", response_model=FileRead)
def remove_file_tag(file_id: RowId, name: Annotated[str, Path(max_length=256)], session: WriteSession,
                    user: CurrentUser) -> FileRead:
    file = service.get_file(session, file_id)
    tags.untag_file(session, file, name)
    return service.to_read(file)


@router.put("/files/{file_id}/favourite", response_model=FileRead)
def mark_favourite(file_id: RowId, session: WriteSession, user: CurrentUser) -> FileRead:
    return service.to_read(tags.set_favourite(session, service.get_file(session, file_id), True))


@router.delete("/files/{file_id}/favourite", response_model=FileRead)
def unmark_favourite(file_id: RowId, session: WriteSession, user: CurrentUser) -> FileRead:
    return service.to_read(tags.set_favourite(session, service.get_file(session, file_id), False))
