"""Printer providers: the code that speaks one kind of printer host.

Add a provider by writing a class that satisfies base.PrinterProvider and listing it here.
"""

import httpx

from printstash.printers.providers.base import PrinterProvider
from printstash.printers.providers.moonraker import MoonrakerProvider

PROVIDERS = ("moonraker",)


def make_provider(kind: str, http: httpx.AsyncClient, base_url: str, api_key: str | None,
                  timeout: float = 5.0) -> PrinterProvider:
    if kind == "moonraker":
        return MoonrakerProvider(http, base_url, api_key, timeout=timeout)
    raise ValueError(f"unknown printer provider {kind!r}")
