"""create_app(settings): the FastAPI application. No work at import time."""

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

from printstash import __version__
from printstash.auth.router import router as auth_router
from printstash.auth.setup import announce_setup_token
from printstash.backups.router import router as backups_router
from printstash.compat.router import router as compat_router
from printstash.core import datalock
from printstash.core.db import Database
from printstash.core.errors import install_handlers
from printstash.core.headers import SecurityHeaders
from printstash.core.settings import Settings
from printstash.core.storage import ensure_layout
from printstash.health.router import router as health_router
from printstash.library.preview_router import router as preview_router
from printstash.library.router import router as library_router
from printstash.library.search_router import router as search_router
from printstash.library.store import clean_stale_parts
from printstash.printers import events as printer_events
from printstash.printers.router import files_router as print_history_router
from printstash.printers.router import router as printers_router

log = logging.getLogger(__name__)
API_PREFIX = "/api/v1"
YOUNG_GC_THRESHOLD = 10_000  # allocations between young collections (CPython's default: 700)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    ensure_layout(settings)
    lock_fd = datalock.hold_shared(settings)
    clean_stale_parts(settings)  # partial uploads of a crashed api
    app.state.db = Database.from_settings(settings)
    app.state.http = httpx.AsyncClient(timeout=httpx.Timeout(10.0, connect=5.0))
    announce_setup_token(app.state)  # auth: first-run setup token (logged while no user exists)
    # PostgreSQL: printer changes reach this process's event streams by LISTEN/NOTIFY
    app.state.printer_feed = feed = printer_events.feed_for(settings, app.state.db)
    if feed is not None:
        feed.start()
    # What exists now lives as long as the process: keep it out of the collector's full
    # passes, which otherwise walk these ~200k objects whenever a request allocates many (an
    # upload's 49,369-layer index: 0.20 s, 0.06 s frozen; bench/ingest/bench_upload.py).
    gc.freeze()
    # Young collections: at CPython's threshold of 700 a list of 50 files ran about two per
    # request (550 in 300), each walking that request's live rows and models, 0.5-1 ms of GC
    # per request at bench/search's 100k library; at 10,000, 7 in 300 requests. Garbage in
    # reference cycles is found a little later.
    thresholds = gc.get_threshold()
    gc.set_threshold(YOUNG_GC_THRESHOLD, *thresholds[1:])
    try:
        yield
    finally:
        gc.unfreeze()  # an app stopped inside a longer-lived process (tests) leaves no frozen heap
        gc.set_threshold(*thresholds)
        if feed is not None:
            await feed.stop()
        await app.state.http.aclose()
        app.state.db.dispose()
        datalock.release(lock_fd)


def create_app(settings: Settings) -> FastAPI:
    app = FastAPI(
        title="PrintStash",
        version=__version__,
        lifespan=lifespan,
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url=f"{API_PREFIX}/docs",
        redoc_url=None,
    )
    app.state.settings = settings
    app.add_middleware(SecurityHeaders, docs_path=f"{API_PREFIX}/docs")
    install_handlers(app)
    for router in (health_router, auth_router, search_router, library_router, preview_router,
                   printers_router, print_history_router, backups_router):
        app.include_router(router, prefix=API_PREFIX)
    app.include_router(compat_router)
    return app
