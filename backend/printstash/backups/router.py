"""HTTP routes of the backups domain (thin: parse, call the service, shape the answer)."""

from fastapi import APIRouter

router = APIRouter(tags=["backups"])
