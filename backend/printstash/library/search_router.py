"""GET /files (search, filters, sort) and /files/facets. Included before router.py so that
`/files/facets` is not taken for `/files/{id}`."""

from fastapi import APIRouter

router = APIRouter(tags=["library"])
