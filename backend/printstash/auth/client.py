"""Who is on the other end, when PrintStash sits behind a reverse proxy.

A proxy appends the address it received the request from to X-Forwarded-For and the scheme
to X-Forwarded-Proto. Those headers are believed only from VAULT_TRUSTED_PROXIES (by default
loopback and private networks, where the shipped nginx and Vite servers connect from): a
client on the internet could otherwise pick any address to dodge the sign-in limits.
"""

import ipaddress

from fastapi import Request

from printstash.core.settings import Settings


def _peer(request: Request) -> str:
    return request.client.host if request.client else ""


def _trusted(settings: Settings, address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in settings.trusted_proxy_networks)


def client_address(request: Request) -> str:
    """The browser's address: walking X-Forwarded-For from the right (each hop appends), the
    first address that is not a trusted proxy; the peer itself when it is not trusted."""
    settings: Settings = request.app.state.settings
    address = _peer(request)
    hops = [h.strip() for h in request.headers.get("x-forwarded-for", "").split(",") if h.strip()]
    while hops and _trusted(settings, address):
        hop = hops.pop()
        if not _is_ip(hop):
            break  # a garbled header: keep the last address we could vouch for
        address = hop
    return address or "unknown"


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def is_https(request: Request) -> bool:
    if request.url.scheme == "https":
        return True
    proto = request.headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return proto == "https" and _trusted(request.app.state.settings, _peer(request))
