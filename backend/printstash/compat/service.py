"""The OctoPrint dialect: version strings, answer shapes and the static status documents."""

import logging
from typing import Any

from fastapi import Request

from printstash.auth.models import User
from printstash.compat.schemas import FileRefs, StoredFile, StoredFiles, UploadRead
from printstash.core.errors import Invalid

log = logging.getLogger(__name__)

# The OctoPrint API level we speak (the upload API has not changed since 1.x; Moonraker's
# compat layer reports the same). Cura's plugin compares `server` against OctoPrint versions,
# so PrintStash's own version goes into `text` instead.
API_VERSION = "0.1"
SERVER_VERSION = "1.5.0"
FILE_COMMANDS = ("select", "unselect")  # copy/move/slice would claim work PrintStash did not do

SETTINGS: dict[str, Any] = {
    "api": {"allowCrossOrigin": False},
    "feature": {"sdSupport": False},
    "webcam": {"webcamEnabled": False, "streamUrl": "", "snapshotUrl": "", "flipH": False, "flipV": False,
               "rotate90": False},
    # Cura's OctoPrint connection sends a .ufp (G-code + thumbnail) when the instance lists
    # OctoPrint's UFP plugin here; from its version 0.1.7 on it expects the print to be
    # selected as <name>.gcode, which file_command acknowledges like any other name.
    "plugins": {"UltimakerFormatPackage": {"installed": True, "installed_version": "0.2.2"}},
}
PRINTER_PROFILES: dict[str, Any] = {"profiles": {"_default": {
    "id": "_default", "name": "PrintStash vault", "model": "PrintStash", "color": "default",
    "current": True, "default": True, "heatedBed": True, "heatedChamber": False,
    "extruder": {"count": 1, "offsets": [[0.0, 0.0]], "nozzleDiameter": 0.4},
    "volume": {"width": 200.0, "depth": 200.0, "height": 200.0, "formFactor": "rectangular",
               "origin": "lowerleft"},
}}}
_FLAGS = {"operational": True, "ready": True, "printing": False, "paused": False, "pausing": False,
          "cancelling": False, "error": False, "closedOrError": False, "sdReady": False, "finishing": False,
          "resuming": False}
PRINTER_STATE: dict[str, Any] = {"state": {"text": "Operational", "flags": _FLAGS}, "temperature": {},
                                 "sd": {"ready": False}}
JOB_STATE: dict[str, Any] = {
    "job": {"file": {"name": None, "origin": None, "size": None, "date": None}, "estimatedPrintTime": None,
            "filament": None, "user": None},
    "progress": {"completion": None, "filepos": None, "printTime": None, "printTimeLeft": None},
    "state": "Operational",
}


def presents_credentials(request: Request) -> bool:
    return bool(request.headers.get("x-api-key") or request.headers.get("authorization"))


def upload_answer(base_url: str, file_id: int, name: str) -> UploadRead:
    """OctoPrint's 201 body; refs point at PrintStash's own resources (absolute, as OctoPrint)."""
    resource = f"{base_url.rstrip('/')}/api/v1/files/{file_id}"
    refs = FileRefs(resource=resource, download=f"{resource}/download")
    return UploadRead(files=StoredFiles(local=StoredFile(name=name, path=name, refs=refs)))


def log_ignored_fields(fields: dict[str, str], name: str) -> None:
    if fields.get("print", "").lower() == "true" or fields.get("select", "").lower() == "true":
        log.info("slicer asked to select/print %s; PrintStash stores it only", name)


def check_command(command: str) -> None:
    if command not in FILE_COMMANDS:
        raise Invalid(f"unknown command {command!r}", code="unknown_command")


def octoprint_user(user: User) -> dict[str, Any]:
    groups = ["admins", "users"] if user.is_admin else ["users"]
    return {"name": user.username, "active": not user.disabled, "admin": user.is_admin, "user": True,
            "groups": groups, "permissions": ["FILES_UPLOAD", "FILES_LIST", "STATUS"]}
