"""Fixtures of the cross-app suites: rates, a database proxy, an API server."""

from collections.abc import Iterator
from typing import Any

import pytest

from contestplatform.testing import RedisProcess
from tests.support import (
    APP_NAME,
    AppServer,
    TcpProxy,
    database_target,
    database_url,
)


@pytest.fixture(autouse=True)
def _generous_limits(settings: Any) -> None:
    """Keep every throttle on, at rates these suites cannot reach."""
    settings.RATELIMIT_RATES = dict.fromkeys(settings.RATELIMIT_RATES, "100000/1s")


@pytest.fixture
def pg_proxy(transactional_db: Any) -> Iterator[TcpProxy]:
    """A TCP proxy in front of the test database, to cut and restore."""
    with TcpProxy(database_target()) as proxy:
        yield proxy


@pytest.fixture
def app_server(transactional_db: Any, own_redis: RedisProcess) -> Iterator[AppServer]:
    """The API under gunicorn on the test database and the test's Redis."""
    url = database_url(application_name=APP_NAME)
    with AppServer(database_url=url, redis_url=own_redis.url) as server:
        yield server


@pytest.fixture
def proxied_app_server(
    pg_proxy: TcpProxy, own_redis: RedisProcess
) -> Iterator[AppServer]:
    """The API under gunicorn, reaching PostgreSQL only through ``pg_proxy``."""
    url = database_url(port=pg_proxy.port, application_name=APP_NAME)
    with AppServer(database_url=url, redis_url=own_redis.url) as server:
        yield server
