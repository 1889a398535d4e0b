"""HTTP routes of the printers domain (thin: parse, call the service, shape the answer)."""

from fastapi import APIRouter

router = APIRouter(tags=["printers"])
