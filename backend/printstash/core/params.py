"""Bounded integer and date parameters, declared once and used by every route.

The database stores 64-bit integers and dates within years 1-9999 (UTC); a value outside
them used to reach the driver and end in a 500. Each type here refuses it with a 422 first.
"""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Path, Query
from pydantic import AfterValidator, Field

INT64_MAX = 2**63 - 1
LIMIT_MAX = 500
OFFSET_MAX = 1_000_000_000

RowId = Annotated[int, Path(ge=1, le=INT64_MAX, description="a row id")]
Index = Annotated[int, Path(ge=0, le=INT64_MAX, description="0-based position")]
Offset = Annotated[int, Query(ge=0, le=OFFSET_MAX, description="items to skip")]
BodyId = Annotated[int, Field(ge=1, le=INT64_MAX)]


def as_utc(moment: datetime) -> datetime:
    """Aware and in UTC; a date without a zone means UTC, like every time PrintStash shows."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise ValueError("date is out of range once converted to UTC (years 1-9999)") from None


Moment = Annotated[datetime, AfterValidator(as_utc)]
