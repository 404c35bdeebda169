"""Fixtures of the ratelimit tests: a movable clock, rates, a spare Redis."""

from collections.abc import Iterator

import pytest

from contestplatform.testing import RedisProcess

from .urls import BURST_RATE


class Clock:
    """Moves the limiter's clock (Redis TIME plus an offset) forward."""

    def __init__(self, settings) -> None:
        self._settings = settings
        settings.RATELIMIT_CLOCK_OFFSET = 0.0

    def advance(self, seconds: float) -> None:
        self._settings.RATELIMIT_CLOCK_OFFSET += seconds


@pytest.fixture
def clock(settings) -> Clock:
    return Clock(settings)


@pytest.fixture(autouse=True)
def _test_scopes(settings) -> None:
    """Give the scopes of the test views (``urls``) their rates."""
    settings.RATELIMIT_RATES = {**settings.RATELIMIT_RATES, "test_burst": BURST_RATE}


@pytest.fixture
def spare_redis(settings) -> Iterator[RedisProcess]:
    """Point the default cache, and so the limiter, at a Redis of our own."""
    with RedisProcess() as server:
        caches = {**settings.CACHES}
        caches["default"] = {**caches["default"], "LOCATION": server.url}
        settings.CACHES = caches
        yield server
