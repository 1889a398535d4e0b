"""Slicer-facing OctoPrint-compatible routes, mounted outside /api/v1.

PrusaSlicer, SuperSlicer, OrcaSlicer (OctoPrint host type) and Cura's OctoPrint plugin talk
to these paths. PrintStash is a vault, not a printer: uploads are stored through the same
ingest as the web upload; `select`/`print` are accepted and ignored. The small read-only
status routes exist because Cura's plugin polls them before it offers to upload.
"""

from typing import Any

from fastapi import APIRouter, Request, Response, status

from printstash import __version__
from printstash.auth.dependencies import CurrentUser, current_user
from printstash.compat import service
from printstash.compat.schemas import FileCommand, UploadRead, VersionRead
from printstash.core.deps import DatabaseDep, SettingsDep
from printstash.library import upload as library_upload
from printstash.library.upload_slots import UploadSlot

router = APIRouter(prefix="/api", tags=["compat"])


@router.get("/version")
def version(request: Request, db: DatabaseDep) -> VersionRead:
    """Public (the slicers' "Test" button), but a presented key must be valid, so the test
    catches a mistyped key instead of the first upload failing."""
    if service.presents_credentials(request):
        current_user(request, db)
    return VersionRead(api=service.API_VERSION, server=service.SERVER_VERSION,
                       text=f"OctoPrint {service.SERVER_VERSION} (PrintStash {__version__})")


# The body is streamed by the ingest (not parsed by FastAPI), so describe it for the docs here.
_UPLOAD_BODY = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"], "properties": {
        "file": {"type": "string", "format": "binary", "description": "the G-code"},
        "path": {"type": "string", "description": "OctoPrint folder; ignored"},
        "select": {"type": "string", "enum": ["true", "false"], "description": "ignored"},
        "print": {"type": "string", "enum": ["true", "false"], "description": "accepted and ignored"},
    }}}}}}


@router.post("/files/local", status_code=status.HTTP_201_CREATED, response_model_by_alias=True,
             openapi_extra=_UPLOAD_BODY)
async def upload(request: Request, response: Response, user: CurrentUser, settings: SettingsDep,
                 db: DatabaseDep, _: UploadSlot) -> UploadRead:
    """multipart: `file` (required), `path`, `select`, `print` (both ignored)."""
    outcome = await library_upload.receive_upload(request, settings, db, user.id)
    service.log_ignored_fields(outcome.fields, outcome.file.name)
    answer = service.upload_answer(str(request.base_url), outcome.file.id, outcome.file.name)
    response.headers["Location"] = answer.files.local.refs.resource
    return answer


@router.post("/files/local/{name:path}", status_code=status.HTTP_204_NO_CONTENT)
def file_command(name: str, body: FileCommand, user: CurrentUser) -> Response:
    """select/print after upload: acknowledged, nothing to do in a vault."""
    service.check_command(body.command)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/login")
def login(user: CurrentUser) -> dict[str, Any]:
    """Cura's passive login with the API key: who am I."""
    return service.octoprint_user(user)


@router.get("/currentuser")
def currentuser(user: CurrentUser) -> dict[str, Any]:
    return service.octoprint_user(user)


@router.get("/settings")
def settings(user: CurrentUser) -> dict[str, Any]:
    return service.SETTINGS


@router.get("/printerprofiles")
def printerprofiles(user: CurrentUser) -> dict[str, Any]:
    return service.PRINTER_PROFILES


@router.get("/printer")
def printer(user: CurrentUser) -> dict[str, Any]:
    return service.PRINTER_STATE


@router.get("/job")
def job(user: CurrentUser) -> dict[str, Any]:
    return service.JOB_STATE
