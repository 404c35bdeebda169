"""Fixtures shared by every app's tests: API clients, users, Redis."""

from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django_redis import get_redis_connection
from rest_framework.test import APIClient

from accounts.models import Role, User
from accounts.tests.factories import UserFactory
from contestplatform.testing import RedisProcess
from leaderboards import board

PASSWORD = "correct-horse-battery-9"  # noqa: S105 - test accounts only


@pytest.fixture(autouse=True)
def _clean_redis() -> Iterator[None]:
    """Start each test on an empty Redis database (the one REDIS_URL names)."""
    connection = get_redis_connection("default")
    connection.flushdb()
    yield
    connection.flushdb()


@pytest.fixture
def own_redis(settings: Any) -> Iterator[RedisProcess]:
    """Point this process at a redis-server the test may kill and restart."""
    with RedisProcess() as server:
        caches = {**settings.CACHES}
        caches["default"] = {**caches["default"], "LOCATION": server.url}
        settings.CACHES = caches
        # The board registers its scripts once per connection pool.
        board._scripts._scripts.clear()
        yield server
    board._scripts._scripts.clear()


@pytest.fixture
def api() -> APIClient:
    return APIClient()


@pytest.fixture
def user(db: Any) -> User:
    return UserFactory(password=PASSWORD)


@pytest.fixture
def admin_user(db: Any) -> User:
    return UserFactory(password=PASSWORD, role=Role.ADMIN)


def token_for(user: User) -> str:
    from rest_framework_simplejwt.tokens import AccessToken

    return str(AccessToken.for_user(user))


def client_for(user: User) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_for(user)}")
    return client


@pytest.fixture
def user_api(user: User) -> APIClient:
    return client_for(user)


@pytest.fixture
def admin_api(admin_user: User) -> APIClient:
    return client_for(admin_user)


def pytest_report_header() -> str:
    db = settings.DATABASES["default"]
    host = db.get("HOST") or "socket"
    return f"postgres: {host}/{db['NAME']}  redis: {settings.REDIS_URL}"
