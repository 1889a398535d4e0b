"""Stored objects out over HTTP: sent from the data volume (FileResponse: sendfile, Range),
streamed from a bucket through the api (one byte range per request, as the bucket serves
them), or a redirect to a short-lived presigned URL when VAULT_S3_PRESIGNED_DOWNLOADS is on."""

import re

from fastapi import Request, Response, status
from fastapi.responses import FileResponse, RedirectResponse, StreamingResponse

from printstash.core.errors import NotFound
from printstash.core.objects import attachment
from printstash.core.settings import Settings
from printstash.core.storage import storage_for

_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


def serve_object(request: Request, settings: Settings, key: str, *, media_type: str, filename: str | None,
                 headers: dict[str, str], missing: NotFound) -> Response:
    storage = storage_for(settings)
    path = storage.local_path(key)
    if path is not None:
        if not path.is_file():
            raise missing
        # FileResponse answers Range requests (206) and encodes a unicode name as filename*=.
        return FileResponse(path, media_type=media_type, filename=filename, headers=headers)
    url = storage.presigned_url(key, filename, media_type)
    if url is not None:
        return RedirectResponse(url, status_code=status.HTTP_307_TEMPORARY_REDIRECT, headers=headers)
    return _streamed(request, settings, key, media_type, filename, headers, missing)


def _streamed(request: Request, settings: Settings, key: str, media_type: str, filename: str | None,
              headers: dict[str, str], missing: NotFound) -> Response:
    storage = storage_for(settings)
    total = storage.size(key)
    if total is None:
        raise missing
    wanted = _wanted_range(request.headers.get("range", ""), total)
    if isinstance(wanted, str):  # unsatisfiable
        return Response(status_code=status.HTTP_416_RANGE_NOT_SATISFIABLE,
                        headers={"Content-Range": f"bytes */{total}", **headers})
    start, end = wanted or (0, None)
    body = storage.read_range(key, start, end)
    if body is None:
        raise missing
    out = {"Accept-Ranges": "bytes", "Content-Length": str(body.end - body.start + 1), **headers}
    if filename is not None:
        out["Content-Disposition"] = attachment(filename)
    if wanted is None:
        return StreamingResponse(body.chunks, media_type=media_type, headers=out)
    out["Content-Range"] = f"bytes {body.start}-{body.end}/{body.total}"
    return StreamingResponse(body.chunks, status_code=status.HTTP_206_PARTIAL_CONTENT, media_type=media_type,
                             headers=out)


def _wanted_range(header: str, total: int) -> tuple[int, int | None] | str | None:
    """One `bytes=a-b`, `bytes=a-` or `bytes=-n` range; None (the whole object) for no or
    several ranges or a malformed header, as RFC 9110 lets a server do."""
    match = _RANGE.fullmatch(header.strip())
    if match is None or match[1] == match[2] == "":
        return None
    if match[1] == "":  # the last n bytes
        return (max(total - int(match[2]), 0), None) if int(match[2]) else "unsatisfiable"
    start, end = int(match[1]), int(match[2]) if match[2] else None
    if end is not None and end < start:
        return None
    return (start, end) if start < total else "unsatisfiable"
