"""Printer base URLs: what an admin may enter, and how a stored one is shown and logged.

A URL is shown to every member (GET /printers) and written to the worker's log, so it must
not carry a secret: credentials belong in the write-only, encrypted `api_key`. Rows saved
before this check may still hold `user:password@`; `redacted()` hides it wherever a URL is
shown or logged.
"""

import ipaddress
import re
from urllib.parse import SplitResult, urlsplit

_HOST_NAME = re.compile(r"^(?!-)[A-Za-z0-9_-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9_-]{1,63}(?<!-))*\.?$")
EXAMPLE = "e.g. http://printer.local:7125"


def clean_printer_url(value: str) -> str:
    """The URL without surrounding spaces or a trailing slash; ValueError says what is wrong."""
    value = value.strip()
    if any(ch.isspace() or not ch.isprintable() for ch in value):
        raise ValueError("must not contain spaces or control characters")
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.netloc:
        raise ValueError(f"must be an http:// or https:// URL, {EXAMPLE}")
    if "@" in parts.netloc:
        raise ValueError("must not contain a user name or password; put the printer's API key in api_key")
    if parts.query or parts.fragment or "?" in value or "#" in value:
        raise ValueError("must not contain a query or fragment")
    _check_host(parts)
    _check_port(parts)
    return value.rstrip("/")


def _check_host(parts: SplitResult) -> None:
    host = parts.hostname or ""
    if parts.netloc.startswith("["):
        try:
            ipaddress.IPv6Address(host.split("%", 1)[0])
        except ValueError:
            raise ValueError("has an invalid IPv6 address") from None
    elif not _HOST_NAME.match(host):
        raise ValueError(f"has an invalid host name, {EXAMPLE}")


def _check_port(parts: SplitResult) -> None:
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0 or (port is None and parts.netloc.endswith(":")):
        raise ValueError("has an invalid port; ports are 1-65535")


def redacted(url: str) -> str:
    """The URL with any user-info replaced, for answers and logs."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return parts._replace(netloc="***@" + parts.netloc.rsplit("@", 1)[1]).geturl()
