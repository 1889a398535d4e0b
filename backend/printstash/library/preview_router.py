"""HTTP routes of the toolpath preview (thin: library/preview.py does the work)."""

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response, status

from printstash.auth.dependencies import CurrentUser
from printstash.core.deps import ReadSession, SettingsDep
from printstash.core.params import Index, RowId
from printstash.library import preview, service
from printstash.library.schemas import ErrorRead, LayersRead

router = APIRouter(tags=["library"])
Plate = Annotated[int, Query(ge=1, le=1000, description="the plate (1 for a single-plate file)")]
# The moves of a layer never change for the same content (the ETag names it).
IMMUTABLE = "private, max-age=31536000, immutable"
_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorRead, "description": "`file_not_found`, `plate_not_found` or `layer_not_found`"},
    409: {"model": ErrorRead, "description": "the file is a model, not sliced G-code (`not_sliced`)"},
}
_SEGMENTS_DOC: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/octet-stream": {}},
          "description": "28 bytes per segment, little-endian: float32 x0 y0 z0 x1 y1 z1, uint8 feature "
                         "code, uint8 flags (bit 0: extruding), uint16 tool"},
    304: {"description": "If-None-Match named this layer's ETag"}, **_ERRORS,
}


@router.get("/files/{file_id}/layers", response_model=LayersRead, responses=_ERRORS)
def read_layers(file_id: RowId, request: Request, session: ReadSession, settings: SettingsDep, user: CurrentUser,
                plate: Plate = 1) -> Response:
    """The plate's layers (index and Z) and the legend of the segments' feature codes (gzipped
    for a client that accepts it: a 50,000-layer index is 1.4 MB of JSON)."""
    body = preview.index_body(settings, service.get_file(session, file_id), plate)
    if _accepts_gzip(request.headers.get("accept-encoding", "")):
        return Response(body.gzipped, media_type="application/json",
                        headers={"Content-Encoding": "gzip", "Vary": "Accept-Encoding"})
    return Response(body.json, media_type="application/json", headers={"Vary": "Accept-Encoding"})


@router.get("/files/{file_id}/layers/{index}", response_class=Response, responses=_SEGMENTS_DOC)
def read_layer(file_id: RowId, index: Index, request: Request, session: ReadSession, settings: SettingsDep,
               user: CurrentUser, plate: Plate = 1) -> Response:
    """One layer's moves as segments (a layer starts where the one before it ended)."""
    row = service.get_file(session, file_id)
    layers = preview.indexed_layer(settings, row, plate, index)  # 404/409 before any 304
    tag = preview.etag(row, plate, index)
    headers = {"ETag": tag, "Cache-Control": IMMUTABLE, "X-Layer-Z": _number(layers.zs[index]),
               "X-Layer-Count": str(len(layers))}
    if _matches(request.headers.get("if-none-match", ""), tag):
        return Response(status_code=status.HTTP_304_NOT_MODIFIED, headers=headers)
    data = preview.layer_segments(settings, row, plate, layers, index)
    return Response(data, media_type="application/octet-stream", headers=headers)


def _number(z: float) -> str:
    return str(round(z, 4))  # the float32 of the index, back to what the slicer wrote


def _accepts_gzip(header: str) -> bool:
    """Accept-Encoding names gzip (or *) with a weight above zero."""
    for item in header.split(","):
        name, *params = (part.strip() for part in item.split(";"))
        weights = [param.removeprefix("q=") for param in params if param.startswith("q=")]
        try:
            weight = float(weights[0]) if weights else 1.0
        except ValueError:
            weight = 0.0
        if name.lower() in ("gzip", "*") and weight > 0:
            return True
    return False


def _matches(header: str, tag: str) -> bool:
    """If-None-Match: `*` or a list of (possibly weak) tags."""
    tags = {t.strip().removeprefix("W/") for t in header.split(",")}
    return "*" in tags or tag in tags
