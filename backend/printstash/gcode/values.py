"""Small converters from the text slicers print to typed values (None when unusable)."""

import math
import re

_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(d|h|m|s)", re.IGNORECASE)
_UNIT_SECONDS = {"d": 86400, "h": 3600, "m": 60, "s": 1}


def to_float(text: str | None) -> float | None:
    """A finite float, or None (slicers print 'nan', '', placeholders…)."""
    if text is None:
        return None
    try:
        value = float(text.strip().rstrip("%").strip())
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def first_float(text: str | None) -> float | None:
    """The first value of a per-extruder list such as '215,215' or '0.4;0.6'."""
    values = float_list(text)
    return values[0] if values else None


def float_list(text: str | None) -> list[float]:
    """Every number of a ',' or ';' separated per-extruder list."""
    if not text:
        return []
    parts = re.split(r"[,;]", text)
    values = [to_float(p) for p in parts if p.strip()]
    return [v for v in values if v is not None]


def str_list(text: str | None) -> list[str]:
    """A ';' or ',' separated list of names, quotes stripped, empties dropped."""
    if not text:
        return []
    sep = ";" if ";" in text else ","
    items = (p.strip().strip('"').strip() for p in text.split(sep))
    return [i for i in items if i]


def duration_s(text: str | None) -> int | None:
    """'1d 2h 3m 4s' / '19m 38s' / '1510' → seconds."""
    if text is None:
        return None
    text = text.strip()
    plain = to_float(text)
    if plain is not None:
        return round(plain)
    parts = _DURATION_PART.findall(text)
    if not parts:
        return None
    return round(sum(float(n) * _UNIT_SECONDS[u.lower()] for n, u in parts))


def clean_str(text: str | None) -> str | None:
    """Strip whitespace and quotes; empty → None (Moonraker reports '', we report nothing)."""
    if text is None:
        return None
    value = text.strip().strip('"').strip()
    return value or None


def as_number(value: float) -> int | float:
    """Whole numbers as int (temperatures, counts), keep the rest as float."""
    return int(value) if value.is_integer() else value
