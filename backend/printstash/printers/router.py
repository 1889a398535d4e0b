"""HTTP routes of the printers domain (thin: parse, call the service, shape the answer).

Admins manage printers and pause/resume/cancel; every signed-in user sees them, their
history and live events, and may send a vault file to an idle printer.
"""

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.responses import StreamingResponse

from printstash.auth.dependencies import AdminUser, CurrentUser
from printstash.core.db import utcnow
from printstash.core.deps import DatabaseDep, HttpClient, ReadSession, SettingsDep, WriteSession
from printstash.core.pagination import Page
from printstash.core.params import Index, Offset, RowId
from printstash.core.settings import Settings
from printstash.printers import commands, events, history, monitor, service
from printstash.printers.schemas import (
    PrinterCheck,
    PrinterCreate,
    PrinterFound,
    PrinterRead,
    PrinterUpdate,
    PrintJobRead,
    PrintRequest,
    PrintStarted,
    Temperatures,
    WebcamRead,
)

router = APIRouter(prefix="/printers", tags=["printers"])
# A file's prints are print jobs: this domain answers for them under the file's path.
files_router = APIRouter(prefix="/files", tags=["printers"])


def _read_one(session: ReadSession, settings: Settings, printer_id: int) -> PrinterRead:
    printer = service.get_printer(session, printer_id)
    return service.to_read(settings, printer, service.get_status(session, printer_id))


@router.get("", response_model=Page[PrinterRead])
def list_printers(session: ReadSession, settings: SettingsDep, user: CurrentUser,
                  limit: Annotated[int, Query(ge=1, le=500)] = 500,
                  offset: Offset = 0) -> Page[PrinterRead]:
    """By name; the default page is the largest, as the printers page shows the whole fleet."""
    now = utcnow()
    rows, total = service.list_printers(session, limit, offset)
    return Page[PrinterRead](items=[service.to_read(settings, p, s, now) for p, s in rows], total=total)


@router.post("", response_model=PrinterRead, status_code=status.HTTP_201_CREATED)
def create_printer(body: PrinterCreate, session: WriteSession, settings: SettingsDep, user: AdminUser,
                   response: Response) -> PrinterRead:
    printer = service.create_printer(session, settings, body)
    response.headers["Location"] = f"/api/v1/printers/{printer.id}"
    return service.to_read(settings, printer, None)


@router.post("/check", response_model=PrinterFound)
async def check_printer(body: PrinterCheck, http: HttpClient, user: AdminUser) -> PrinterFound:
    """Try a printer's address before adding it: what was found there, or why nothing was."""
    return await commands.check_connection(http, body)


@router.get("/events", response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {}},
                             "description": "`status` events ({printer_id, status}) and `removed` events"}})
async def printer_events(request: Request, db: DatabaseDep, settings: SettingsDep,
                         user: CurrentUser) -> StreamingResponse:
    """Server-Sent Events: every printer's status now, then each change as the worker writes it."""
    headers = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
    return StreamingResponse(events.stream(request, db, settings), media_type="text/event-stream", headers=headers)


@router.get("/{printer_id}", response_model=PrinterRead)
def read_printer(printer_id: RowId, session: ReadSession, settings: SettingsDep, user: CurrentUser) -> PrinterRead:
    return _read_one(session, settings, printer_id)


@router.patch("/{printer_id}", response_model=PrinterRead)
def update_printer(printer_id: RowId, body: PrinterUpdate, session: WriteSession, settings: SettingsDep,
                   user: AdminUser) -> PrinterRead:
    printer = service.update_printer(session, settings, printer_id, body)
    return service.to_read(settings, printer, service.get_status(session, printer_id))


@router.delete("/{printer_id}", status_code=status.HTTP_204_NO_CONTENT)
def delete_printer(printer_id: RowId, session: WriteSession, user: AdminUser) -> Response:
    service.delete_printer(session, printer_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{printer_id}/history", response_model=Page[PrintJobRead])
def printer_history(printer_id: RowId, session: ReadSession, user: CurrentUser,
                    limit: Annotated[int, Query(ge=1, le=500)] = 50,
                    offset: Offset = 0) -> Page[PrintJobRead]:
    return history.history(session, printer_id, limit, offset)


@files_router.get("/{file_id}/history", response_model=Page[PrintJobRead])
def file_history(file_id: RowId, session: ReadSession, user: CurrentUser,
                 limit: Annotated[int, Query(ge=1, le=500)] = 50,
                 offset: Offset = 0) -> Page[PrintJobRead]:
    """This file's prints on every printer, newest first."""
    return history.file_history(session, file_id, limit, offset)


@router.post("/{printer_id}/print", response_model=PrintStarted, status_code=status.HTTP_202_ACCEPTED)
async def send_to_print(printer_id: RowId, body: PrintRequest, db: DatabaseDep, settings: SettingsDep,
                        http: HttpClient, user: CurrentUser) -> PrintStarted:
    """Upload a vault file to the printer and start it; 409 when the printer is not idle."""
    return await commands.send_to_print(db, settings, http, printer_id, body.file_id, body.plate)


@router.get("/{printer_id}/temperatures", response_model=Temperatures)
async def temperatures(printer_id: RowId, db: DatabaseDep, settings: SettingsDep, http: HttpClient,
                       user: CurrentUser,
                       seconds: Annotated[int, Query(ge=1, le=1200, description="readings to return")] = 600,
                       ) -> Temperatures:
    """Every heater and sensor now and over the last `seconds` (the printer's own record)."""
    return await monitor.temperatures(db, settings, http, printer_id, seconds)


@router.get("/{printer_id}/webcams", response_model=Page[WebcamRead])
async def webcams(printer_id: RowId, db: DatabaseDep, settings: SettingsDep, http: HttpClient,
                  user: CurrentUser) -> Page[WebcamRead]:
    cams = await monitor.webcams(db, settings, http, printer_id)
    return Page[WebcamRead](items=cams, total=len(cams))


@router.get("/{printer_id}/webcams/{index}/picture", response_class=Response,
            responses={200: {"content": {"image/jpeg": {}, "image/png": {}}, "description": "the picture now"}})
async def webcam_picture(printer_id: RowId, index: Index, db: DatabaseDep, settings: SettingsDep,
                         http: HttpClient, user: CurrentUser) -> Response:
    """A current picture (the page asks again every few seconds: a live view without
    holding a stream open through the api)."""
    data, media_type = await monitor.picture(db, settings, http, printer_id, index)
    return Response(data, media_type=media_type,
                    headers={"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"})


@router.post("/{printer_id}/pause", status_code=status.HTTP_204_NO_CONTENT)
async def pause(printer_id: RowId, db: DatabaseDep, settings: SettingsDep, http: HttpClient,
                user: CurrentUser) -> Response:
    """Members too: whoever may print on a printer may pause, resume and cancel its print."""
    await commands.command(db, settings, http, printer_id, "pause")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{printer_id}/resume", status_code=status.HTTP_204_NO_CONTENT)
async def resume(printer_id: RowId, db: DatabaseDep, settings: SettingsDep, http: HttpClient,
                 user: CurrentUser) -> Response:
    await commands.command(db, settings, http, printer_id, "resume")
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/{printer_id}/cancel", status_code=status.HTTP_204_NO_CONTENT)
async def cancel(printer_id: RowId, db: DatabaseDep, settings: SettingsDep, http: HttpClient,
                 user: CurrentUser) -> Response:
    await commands.command(db, settings, http, printer_id, "cancel")
    return Response(status_code=status.HTTP_204_NO_CONTENT)
