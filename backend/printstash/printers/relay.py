"""Text from a printer's answers, made fit to pass on to every member.

A printer's status message, a JSON error body or a file name is whatever the printer (or
anything answering at its URL) says: possibly thousands of characters, terminal escapes, or
bidirectional-override characters that make a message read differently from what it is.
What reaches /printers, the event stream and a 409's detail goes through `relayed()`;
the worker's log keeps the raw text for the admin.
"""

import re

RELAY_MAX_CHARS = 300
STATUS_TEXT_FIELDS = ("message", "error", "filename", "klippy_state", "print_state")
# C0/C1 controls, zero-width and bidirectional formatting characters, line/paragraph separators
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u2069\ufeff]+")


def relayed(text: object, limit: int = RELAY_MAX_CHARS) -> str:
    """One line of at most `limit` visible characters; an ellipsis marks a cut."""
    clean = " ".join(_UNSAFE.sub(" ", str(text)).split())
    return clean if len(clean) <= limit else clean[: limit - 1] + "…"


def relayed_fields(status: dict[str, object]) -> dict[str, object]:
    """The status with its free-text fields relayed (None stays None)."""
    return {k: relayed(v) if k in STATUS_TEXT_FIELDS and v is not None else v for k, v in status.items()}
