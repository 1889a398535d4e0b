"""Slicer-facing OctoPrint-compatible routes, mounted outside /api/v1 (GET /api/version,
POST /api/files/local)."""

from fastapi import APIRouter

router = APIRouter(tags=["compat"])
