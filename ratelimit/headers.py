"""The RateLimit and RateLimit-Policy response header fields.

Follows draft-ietf-httpapi-ratelimit-headers-10 (September 2025): both
fields are Structured Field lists (RFC 8941) of items named by a quoted
policy string, one item per scope that counted the request::

    RateLimit-Policy: "submission";q=10;w=10
    RateLimit: "submission";r=3;t=1

``q`` is the burst quota and ``w`` the window in seconds (see
``limiter``: the quota refills continuously over ``w``). ``r`` is what is
left after this request and ``t`` the whole seconds until one more request
is admitted, so on a 429 ``t`` equals ``Retry-After``. That reading of
``t`` also satisfies draft-11, which renames it the "effective window".
No ``pk`` (partition key) is sent: it would reveal how a client is
identified, and the draft lets servers omit it.

TODO(when the schema documents error responses): describe these two
fields and the 429 there. drf-standardized-errors adds a 429 only when
EXCEPTION_HANDLER is its own function, and the project wraps it.
"""

import math

from django.http import HttpRequest
from rest_framework.request import Request

from .limiter import Decision

# Per-request storage in the WSGI environ, namespaced like "wsgi.input";
# the throttle writes it, the middleware reads it.
_DECISIONS = "ratelimit.decisions"


def remember(request: HttpRequest | Request, decision: Decision) -> None:
    """Keep a decision for the response headers of this request."""
    request.META.setdefault(_DECISIONS, []).append(decision)


def recall(request: HttpRequest) -> list[Decision]:
    decisions: list[Decision] = request.META.get(_DECISIONS, [])
    return decisions


def _sf_string(text: str) -> str:
    if not all(" " <= char <= "~" for char in text):
        raise ValueError(f"a structured-field string must be printable ASCII: {text!r}")
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def policy_item(decision: Decision) -> str:
    rate = decision.rate
    return f"{_sf_string(decision.scope)};q={rate.limit};w={rate.period}"


def limit_item(decision: Decision) -> str:
    seconds = math.ceil(decision.reset)
    return f"{_sf_string(decision.scope)};r={decision.remaining};t={seconds}"


def header_fields(decisions: list[Decision]) -> dict[str, str]:
    """Build both fields for the decisions a request collected."""
    if not decisions:
        return {}
    return {
        "RateLimit-Policy": ", ".join(policy_item(d) for d in decisions),
        "RateLimit": ", ".join(limit_item(d) for d in decisions),
    }
