"""Plain-text logging to stderr, the same format in api and worker; the access log with
credential-looking query parameters redacted (a key pasted into a URL must not be logged)."""

import copy
import logging
import re
from typing import Any

# parameter names that may carry a secret: api_key, X-Api-Key, token, access_token, password,
# X-Amz-Signature, session, … (matched anywhere in the name, case-insensitively)
_SECRET_PARAM = re.compile(
    r"(?i)([?&][^=&#]*(?:key|token|passw|secret|auth|sig|session|credential)[^=&#]*=)[^&#]*")
REDACTED = "***"


def redact_query(target: str) -> str:
    """A path with query string, its secret-looking parameter values replaced."""
    return _SECRET_PARAM.sub(lambda m: m.group(1) + REDACTED, target) if "?" in target else target


class RedactQuery(logging.Filter):
    """For uvicorn's access log, whose args are (client, method, path?query, version, status)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], redact_query(args[2]), *args[3:])
        return True


def uvicorn_log_config() -> dict[str, Any]:
    """uvicorn's own logging config with RedactQuery on the access log's handler."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["redact_query"] = {"()": f"{__name__}.RedactQuery"}
    config["handlers"]["access"]["filters"] = ["redact_query"]
    return config


def configure(level: str = "INFO") -> None:
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        force=True,
    )
