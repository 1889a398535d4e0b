"""Who is on the other end, when PrintStash sits behind its own reverse proxy.

The shipped proxies (nginx in Dockerfile.frontend, the Vite dev/preview server) connect
from loopback or a private address and append the browser's address to X-Forwarded-For and
the scheme to X-Forwarded-Proto. Those headers are believed only from such peers: a client
on the internet could otherwise pick any address to dodge the per-address sign-in limit.
"""

import ipaddress

from fastapi import Request


def _peer(request: Request) -> str:
    return request.client.host if request.client else ""


def _behind_our_proxy(peer: str) -> bool:
    try:
        address = ipaddress.ip_address(peer)
    except ValueError:
        return False
    return address.is_loopback or address.is_private


def client_address(request: Request) -> str:
    """The browser's address: the last X-Forwarded-For hop (the one our proxy added)."""
    peer = _peer(request)
    forwarded = request.headers.get("x-forwarded-for", "")
    if forwarded and _behind_our_proxy(peer):
        return forwarded.split(",")[-1].strip() or peer
    return peer or "unknown"


def is_https(request: Request) -> bool:
    if request.url.scheme == "https":
        return True
    proto = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return proto == "https" and _behind_our_proxy(_peer(request))
