"""Which URLs a subscription may target (SSRF rules):

- `https://` always; `http://` only to a loopback host, and loopback only when the
  notifier is configured for local use (`allow_loopback`);
- the host must not resolve to a private, link-local, reserved or multicast address
  unless that address is inside an allow-listed range (`allowed_private_cidrs`);
- redirects are never followed (the sender does not follow them either).

The resolver is passed in, so the rules are tested without DNS.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from urllib.parse import urlsplit

Resolver = Callable[[str], list[str]]
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


def resolve(host: str) -> list[str]:
    return sorted({str(info[4][0]) for info in socket.getaddrinfo(host, None)})


def _private(address: Address) -> bool:
    return (
        address.is_private
        or address.is_link_local
        or address.is_reserved
        or address.is_multicast
        or address.is_unspecified
        or address.is_loopback
    )


def refusal(
    url: str,
    *,
    allow_loopback: bool,
    allowed_cidrs: Sequence[str],
    resolver: Resolver = resolve,
) -> str | None:
    """Why `url` may not be a target, or None when it may."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "not a URL"
    host = parts.hostname
    if parts.scheme not in ("https", "http") or not host:
        return "the URL must be https://host/..."
    if parts.username or parts.password:
        return "credentials in the URL are not accepted"
    try:
        addresses = [ipaddress.ip_address(a) for a in resolver(host)]
    except (OSError, ValueError):
        return f"the host {host!r} does not resolve"
    if not addresses:
        return f"the host {host!r} does not resolve"
    loopback = all(a.is_loopback for a in addresses)
    if loopback:
        return None if allow_loopback else "loopback targets are not allowed here"
    if parts.scheme != "https":
        return "the URL must use https"
    ranges = [ipaddress.ip_network(c, strict=False) for c in allowed_cidrs]
    for a in addresses:
        if _private(a) and not any(a in r for r in ranges):
            return f"the host resolves to a private address ({a}) not allow-listed"
    return None
