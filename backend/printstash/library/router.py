"""HTTP routes of the library domain (thin: parse, call the service, shape the answer)."""

from fastapi import APIRouter

router = APIRouter(tags=["library"])
