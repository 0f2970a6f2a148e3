"""Where Killick may send a request a wallet chose: https, to public addresses only.

Callback URLs (CHECKLIST S6-46) and SEP-10 client domains come from wallets, so they
could aim the anchor's own network (a metadata service, an admin port, the database).
Outside ``LOCAL_MODE`` the host is resolved, **every** address it resolves to must be
public (not loopback, private, link-local, multicast, reserved or unspecified), and the
request is then sent to the address that was checked — with the original ``Host`` header
and TLS server name — so a DNS answer that changes between the check and the connection
cannot slip through.
In ``LOCAL_MODE`` (development) http and local addresses are allowed.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class UnsafeTarget(Exception):
    """The URL must never be called (a permanent refusal; the message says why)."""


@dataclass(frozen=True)
class Target:
    """How to reach a checked callback URL."""

    url: str  # the wallet's URL: what the signature names
    request_url: str  # where to connect: the URL with its host pinned to a checked address
    host_header: str | None = None
    sni_hostname: str | None = None

    @property
    def extensions(self) -> dict[str, str]:
        return {"sni_hostname": self.sni_hostname} if self.sni_hostname else {}


async def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (raises OSError when it does not resolve)."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def why_not_public(address: IPAddress) -> str | None:
    """What kind of non-public address this is, or None for a public one."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    # The specific kinds first: Python counts link-local and reserved ranges as private too.
    for kind in ("loopback", "link_local", "multicast", "unspecified", "reserved", "private"):
        if getattr(address, f"is_{kind}"):
            return kind.replace("_", "-")
    if not address.is_global:
        return "non-global"
    return None


async def resolve_target(url: str, *, local_mode: bool) -> Target:
    """Check ``url`` and say where to connect.

    Raises UnsafeTarget for a URL that must never be called, OSError when the host does
    not resolve (which may be temporary).
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname
        port = parts.port
    except ValueError:
        raise UnsafeTarget("not a valid URL") from None
    schemes = ("https", "http") if local_mode else ("https",)
    if parts.scheme not in schemes or not host:
        raise UnsafeTarget(f"not an absolute {' or '.join(schemes)} URL")
    if parts.username or parts.password:
        raise UnsafeTarget("the URL carries a user name or password")
    if local_mode:
        return Target(url=url, request_url=url)
    default_port = 443 if parts.scheme == "https" else 80
    addresses = await resolve(host, port or default_port)
    if not addresses:
        raise OSError(f"{host} resolves to no address")
    checked: list[IPAddress] = []
    for text in addresses:
        address = ipaddress.ip_address(text.split("%", 1)[0])
        kind = why_not_public(address)
        if kind is not None:
            raise UnsafeTarget(f"{host} resolves to {address}, a {kind} address")
        checked.append(address)
    pinned = checked[0]
    netloc = f"[{pinned}]" if pinned.version == 6 else str(pinned)
    if port is not None:
        netloc += f":{port}"
    request_url = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
    return Target(url=url, request_url=request_url, host_header=parts.netloc, sni_hostname=host)
