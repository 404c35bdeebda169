"""Whose bucket a request charges: its user, or the address it came from."""

import ipaddress

from django.conf import settings
from django.http import HttpRequest
from rest_framework.request import Request

UNKNOWN_ADDRESS = "unknown"
# One IPv6 subscriber usually holds a whole /64; counting single addresses
# would hand an attacker 2^64 buckets.
IPV6_PREFIX = 64


def _parse_address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    text = text.strip()
    if text.startswith("[") and "]" in text:
        text = text[1 : text.index("]")]  # "[2001:db8::1]:443"
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]  # "203.0.113.7:51234"
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def _bucket_name(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    if isinstance(address, ipaddress.IPv6Address):
        network = ipaddress.IPv6Network(f"{address}/{IPV6_PREFIX}", strict=False)
        return str(network)
    return str(address)


def _forwarded_client(request: HttpRequest | Request, hops: int) -> str | None:
    # Each trusted proxy appends the address it saw, so the client is
    # `hops` entries from the right. Entries further left were written by
    # the client itself and are never read.
    header = str(request.META.get("HTTP_X_FORWARDED_FOR", ""))
    entries = [entry for entry in header.split(",") if entry.strip()]
    if len(entries) < hops:
        return None
    return entries[-hops]


def client_address(
    request: HttpRequest | Request,
) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """Return the client's address: ``REMOTE_ADDR``, unless
    ``TRUSTED_PROXY_COUNT`` proxies stand in front of the app."""
    hops: int = settings.TRUSTED_PROXY_COUNT
    raw = str(request.META.get("REMOTE_ADDR", ""))
    if hops > 0:
        # A request that skipped the proxies has too short a header; its
        # own peer address is then the only thing to trust.
        raw = _forwarded_client(request, hops) or raw
    return _parse_address(raw)


def client_ip(request: HttpRequest | Request) -> str:
    """Return the client bucket the limiter counts by; IPv6 by its /64."""
    address = client_address(request)
    return UNKNOWN_ADDRESS if address is None else _bucket_name(address)


def user_or_ip(request: Request) -> str:
    """Identify a request by its user id if authenticated, else its address."""
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        return f"user:{user.pk}"
    return f"ip:{client_ip(request)}"
