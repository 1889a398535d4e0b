"""HTTP routes of the library domain (thin: parse, call the service, shape the answer).

GET /files (list/search) lives in search_router.py, included before this router.
"""

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import FileResponse, JSONResponse, StreamingResponse
from starlette.background import BackgroundTask

from printstash.auth.dependencies import AdminUser, CurrentUser
from printstash.core.deps import DatabaseDep, ReadSession, SettingsDep, WriteSession
from printstash.core.errors import NotFound
from printstash.core.objects import attachment
from printstash.core.pagination import Page
from printstash.core.params import LIMIT_MAX, BodyId, Index, Offset, RowId
from printstash.core.storage import content_key, thumbnail_key
from printstash.library import bulk, images, preferences, service, sliced, store
from printstash.library.download import serve_object
from printstash.library.models import File
from printstash.library.schemas import (
    ErrorRead,
    FileIds,
    FileRead,
    FilesChanged,
    FileUpdate,
    LibraryPreferences,
    ReparseQueued,
    TrashEmptied,
    file_url,
)
from printstash.library.upload import receive_upload
from printstash.library.upload_slots import UploadSlot

router = APIRouter(tags=["library"])
GCODE_MEDIA_TYPE = "text/x-gcode"
# Stored bytes come from users: never let a browser guess another type (HTML, script) for them.
NO_SNIFF = {"X-Content-Type-Options": "nosniff"}
_UPLOAD_DOC = {
    "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
        "type": "object", "required": ["file"],
        "properties": {"file": {"type": "string", "format": "binary"}}}}}},
}


_UPLOAD_ERRORS: dict[int | str, dict[str, Any]] = {
    200: {"model": FileRead, "description": "identical content already stored (`duplicate: true`)"},
    413: {"model": ErrorRead, "description": "larger than VAULT_MAX_UPLOAD_MB (`upload_too_large`)"},
    415: {"model": ErrorRead, "description": "not G-code (`not_gcode`) or not multipart (`not_multipart`)"},
    422: {"model": ErrorRead, "description": "`empty_file`, `missing_file` or `malformed_multipart`"},
    429: {"model": ErrorRead, "description": "VAULT_MAX_UPLOADS_PER_USER uploads of yours already running "
                                             "(`too_many_uploads`, with Retry-After)"},
    503: {"model": ErrorRead, "description": "maintenance mode (`maintenance`, with Retry-After)"},
    507: {"model": ErrorRead, "description": "the data volume is full (`disk_full`)"},
}


@router.post("/files", response_model=FileRead, status_code=status.HTTP_201_CREATED,
             openapi_extra=_UPLOAD_DOC, responses=_UPLOAD_ERRORS)
async def upload_file(request: Request, settings: SettingsDep, db: DatabaseDep, user: CurrentUser,
                      _: UploadSlot) -> Response:
    outcome = await receive_upload(request, settings, db, user.id)
    body = outcome.file.model_dump(mode="json")
    if outcome.duplicate:
        return JSONResponse(body, status_code=status.HTTP_200_OK)
    return JSONResponse(body, status_code=status.HTTP_201_CREATED,
                        headers={"Location": file_url(outcome.file.id)})


@router.post("/files/reparse", status_code=status.HTTP_202_ACCEPTED, response_model=ReparseQueued)
def reparse_all(session: WriteSession, user: AdminUser) -> ReparseQueued:
    """Re-parse every stored file in the worker (metadata, thumbnails, full-file facts)."""
    service.enqueue_reparse(session)
    return ReparseQueued(file_id=None)


@router.post("/files/{file_id}/reparse", status_code=status.HTTP_202_ACCEPTED, response_model=ReparseQueued)
def reparse_one(file_id: RowId, session: WriteSession, user: CurrentUser) -> ReparseQueued:
    service.get_file(session, file_id)
    service.enqueue_reparse(session, file_id)
    return ReparseQueued(file_id=file_id)


@router.get("/files/trash", response_model=Page[FileRead])
def list_trash(session: ReadSession, user: CurrentUser, limit: Annotated[int, Query(ge=1, le=500)] = 50,
               offset: Offset = 0) -> Page[FileRead]:
    """Files in the trash (restorable until purged), most recently deleted first."""
    items, total = service.list_trash(session, limit, offset)
    return Page[FileRead](items=items, total=total)


@router.delete("/files/trash", response_model=TrashEmptied)
def empty_trash(session: WriteSession, settings: SettingsDep, user: AdminUser) -> TrashEmptied:
    """Purge everything in the trash now (rows, content, thumbnails); cannot be undone."""
    return TrashEmptied(purged=service.purge_trash_content(session, settings, timedelta(0)))


@router.post("/files/trash", response_model=FilesChanged)
def trash_files(body: FileIds, session: WriteSession, user: CurrentUser) -> FilesChanged:
    """Move the selected files to the trash together (404, and nothing moved, when one is
    not in the library)."""
    return FilesChanged(files=bulk.trash_files(session, body.file_ids))


@router.post("/files/restore", response_model=FilesChanged)
def restore_files(body: FileIds, session: WriteSession, user: CurrentUser) -> FilesChanged:
    """Bring the selected files back from the trash together: the library's Undo."""
    return FilesChanged(files=bulk.restore_files(session, body.file_ids))


@router.get("/files/archive", response_class=StreamingResponse,
            responses={200: {"content": {"application/zip": {}}, "description": "a zip of the files"}})
def download_archive(file_id: Annotated[list[BodyId], Query(min_length=1, max_length=LIMIT_MAX)],
                     session: ReadSession, settings: SettingsDep, user: CurrentUser) -> StreamingResponse:
    """The selected files in one zip, streamed (`?file_id=1&file_id=2`)."""
    entries = bulk.archive_entries(session, file_id)
    bulk.check_stored(settings, entries)
    name = f"printstash-{len(entries)}-files.zip"
    return StreamingResponse(bulk.zip_chunks(settings, entries), media_type="application/zip",
                             headers={"Content-Disposition": attachment(name), **NO_SNIFF})


@router.get("/files/{file_id}", response_model=FileRead)
def read_file(file_id: RowId, session: ReadSession, user: CurrentUser) -> FileRead:
    return service.to_read(service.get_file(session, file_id))


@router.get("/files/{file_id}/download", response_class=FileResponse)
def download_file(file_id: RowId, request: Request, session: ReadSession, settings: SettingsDep,
                  user: CurrentUser) -> Response:
    row = service.get_file(session, file_id)
    missing = NotFound(f"the content of file {file_id} is missing from storage", code="content_missing")
    media_type = GCODE_MEDIA_TYPE if row.kind == "gcode" else "application/octet-stream"
    return serve_object(request, settings, content_key(row.sha256), media_type=media_type, filename=row.name,
                        headers=NO_SNIFF, missing=missing)


@router.get("/files/{file_id}/gcode", response_class=FileResponse)
def read_gcode(file_id: RowId, request: Request, session: ReadSession, settings: SettingsDep, user: CurrentUser,
               plate: Annotated[int, Query(ge=1, le=1000)] = 1) -> Response:
    """Plain G-code of a sliced file's plate (a .bgcode decoded); /download keeps the original bytes."""
    row = service.get_file(session, file_id)
    sliced.check_plate(row, plate)
    name = service.gcode_name(row, plate)
    if row.kind == "gcode":  # served as stored: straight from the store (Range, a presigned redirect)
        missing = NotFound(f"the content of file {file_id} is missing from storage", code="content_missing")
        return serve_object(request, settings, content_key(row.sha256), media_type=GCODE_MEDIA_TYPE,
                            filename=name, headers=NO_SNIFF, missing=missing)
    plain = sliced.plain_gcode(settings, row, plate)
    return FileResponse(plain.path, media_type=GCODE_MEDIA_TYPE, filename=name, headers=NO_SNIFF,
                        background=BackgroundTask(plain.release))


@router.get("/files/{file_id}/thumbnails/{index}", response_class=FileResponse)
def read_thumbnail(file_id: RowId, index: Index, request: Request, session: ReadSession, settings: SettingsDep,
                   user: CurrentUser) -> Response:
    row = service.get_file(session, file_id)
    thumb = next((t for t in row.thumbnails if t.index == index), None)
    missing = NotFound(f"file {file_id} has no thumbnail {index}", code="thumbnail_not_found")
    if thumb is None:
        raise missing
    headers = {"Cache-Control": "private, max-age=86400", **NO_SNIFF}
    if thumb.format not in images.DRAWABLE:  # stored by an older version (QOI): converted until a reparse
        data = store.read_thumbnail(settings, thumb.path)
        if data is None:
            raise missing
        image = images.drawable(thumb.format, data)
        if image is None:
            raise NotFound(f"thumbnail {index} of file {file_id} cannot be decoded", code="thumbnail_not_found")
        return Response(image.data, media_type=store.THUMB_MEDIA_TYPES[image.format], headers=headers)
    return serve_object(request, settings, thumbnail_key(thumb.path), media_type=store.THUMB_MEDIA_TYPES[thumb.format],
                        filename=None, headers=headers, missing=missing)


@router.patch("/files/{file_id}", response_model=FileRead)
def update_file(file_id: RowId, change: FileUpdate, session: WriteSession, user: CurrentUser) -> FileRead:
    return service.to_read(service.update_file(session, file_id, change))


@router.delete("/files/{file_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_file(file_id: RowId, session: WriteSession, user: CurrentUser) -> Response:
    """To the trash: hidden everywhere, purged after VAULT_TRASH_RETENTION_DAYS."""
    service.trash_file(session, file_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/files/{file_id}/restore", response_model=FileRead)
def restore_file(file_id: RowId, session: WriteSession, user: CurrentUser) -> FileRead:
    row: File = service.restore_file(session, file_id)
    return service.to_read(row)


@router.get("/library/preferences", response_model=LibraryPreferences)
def read_preferences(session: ReadSession, user: CurrentUser) -> LibraryPreferences:
    return preferences.read(session)


@router.put("/library/preferences", response_model=LibraryPreferences)
def write_preferences(body: LibraryPreferences, session: WriteSession, user: AdminUser) -> LibraryPreferences:
    """Admins choose for everyone, e.g. the currency of filament costs."""
    return preferences.write(session, body)
