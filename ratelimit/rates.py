"""Rates such as ``10/10s`` or ``600/min``: parsing and lookup by scope."""

import functools
import re
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

_UNIT_SECONDS = {
    "s": 1,
    "sec": 1,
    "m": 60,
    "min": 60,
    "h": 3600,
    "hour": 3600,
    "d": 86400,
    "day": 86400,
}
_RATE = re.compile(r"^\s*(?P<limit>\d+)\s*/\s*(?P<count>\d*)\s*(?P<unit>[a-z]+)\s*$")


@dataclass(frozen=True, slots=True)
class Rate:
    """At most ``limit`` requests per ``period`` seconds."""

    limit: int
    period: int

    @property
    def interval_us(self) -> int:
        """Return the time one request costs, in whole microseconds.

        Rounded up, so the limiter errs on the strict side by less than a
        microsecond per request instead of letting rounding admit extra.
        """
        return -(-self.period * 1_000_000 // self.limit)

    def __str__(self) -> str:
        return f"{self.limit}/{self.period}s"


@functools.lru_cache(maxsize=256)
def parse_rate(text: str) -> Rate:
    """Parse ``<limit>/<count><unit>``: ``10/10s``, ``5/min``, ``100/1h``.

    Windows are whole seconds because the RateLimit-Policy header cannot
    express less.
    """
    match = _RATE.match(text.lower())
    if match is None or match["unit"] not in _UNIT_SECONDS:
        raise ValueError(f"not a rate: {text!r} (expected e.g. '10/10s', '5/min')")
    limit = int(match["limit"])
    period = int(match["count"] or 1) * _UNIT_SECONDS[match["unit"]]
    if limit < 1 or period < 1:
        raise ValueError(f"not a rate: {text!r} (limit and window must be > 0)")
    return Rate(limit=limit, period=period)


def rate_for(scope: str) -> Rate:
    """Return the configured rate of a scope, from ``RATELIMIT_RATES``."""
    rates: dict[str, str] = settings.RATELIMIT_RATES
    try:
        text = rates[scope]
    except KeyError:
        raise ImproperlyConfigured(
            f"RATELIMIT_RATES has no rate for the scope {scope!r}."
        ) from None
    try:
        return parse_rate(text)
    except ValueError as exc:
        raise ImproperlyConfigured(f"RATELIMIT_RATES[{scope!r}]: {exc}") from exc
