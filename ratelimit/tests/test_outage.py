"""Redis down, hung or restarted: 503 or pass-through, never a 500."""

import time

import pytest
import redis
from rest_framework.test import APIClient

from contestplatform.logging import Every
from ratelimit import throttles

BURST = "/api/v1/test/burst/"
READ = "/api/v1/test/read/"
REGISTER = "/api/v1/auth/register/"

pytestmark = pytest.mark.urls("ratelimit.tests.urls")


@pytest.fixture
def api() -> APIClient:
    # The error handler reports 5xx answers through Django's
    # got_request_exception signal, which the test client would re-raise.
    return APIClient(raise_request_exception=False)


@pytest.fixture(autouse=True)
def _fresh_outage_log(monkeypatch) -> None:
    """Each test starts with no outage logged yet in this process."""
    monkeypatch.setattr(throttles, "outage_log", Every(throttles.OUTAGE_LOG_INTERVAL))


def _outage_records(caplog) -> list:
    return [r for r in caplog.records if r.name == "ratelimit.throttles"]


def test_a_fail_closed_scope_answers_503_when_redis_is_down(
    api: APIClient, spare_redis
) -> None:
    assert api.get(BURST).status_code == 200
    spare_redis.stop()

    started = time.monotonic()
    response = api.get(BURST)
    elapsed = time.monotonic() - started

    assert response.status_code == 503
    assert response.json()["type"] == "server_error"
    assert response.json()["errors"][0]["code"] == "service_unavailable"
    assert response["Retry-After"] == str(throttles.UNAVAILABLE_RETRY_AFTER)
    assert "RateLimit" not in response
    assert elapsed < 1.0


@pytest.mark.django_db
def test_login_endpoints_fail_closed(api: APIClient, spare_redis) -> None:
    spare_redis.stop()

    register = api.post(REGISTER, {})
    login = api.post("/api/v1/auth/token/", {"email": "a@example.com"})
    refresh = api.post("/api/v1/auth/token/refresh/", {"refresh": "x"})

    assert [register.status_code, login.status_code, refresh.status_code] == [503] * 3


def test_a_fail_closed_scope_answers_503_within_the_socket_timeout_when_redis_hangs(
    api: APIClient, spare_redis, settings
) -> None:
    assert api.get(BURST).status_code == 200
    # Every command to this Redis now waits 3 s: a hung server.
    redis.Redis.from_url(spare_redis.url).client_pause(3000)

    started = time.monotonic()
    response = api.get(BURST)
    elapsed = time.monotonic() - started

    assert response.status_code == 503
    timeout = settings.CACHES["default"]["OPTIONS"]["SOCKET_TIMEOUT"]
    assert timeout <= elapsed < timeout + 0.5


def test_a_fail_open_scope_lets_requests_through_and_warns_once(
    api: APIClient, spare_redis, caplog
) -> None:
    spare_redis.stop()
    caplog.set_level("WARNING", logger="ratelimit.throttles")

    responses = [api.get(READ) for _ in range(5)]

    assert {response.status_code for response in responses} == {200}
    assert "RateLimit" not in responses[0]
    records = _outage_records(caplog)
    assert len(records) == 1
    assert records[0].levelname == "WARNING"
    assert "scope read fails open" in records[0].getMessage()


def test_a_cache_that_is_not_redis_is_an_outage_not_a_crash(
    api: APIClient, settings
) -> None:
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    }

    assert api.get(BURST).status_code == 503
    assert api.get(READ).status_code == 200


def test_a_fail_open_scope_lets_requests_through_when_redis_hangs(
    api: APIClient, spare_redis
) -> None:
    redis.Redis.from_url(spare_redis.url).client_pause(3000)

    started = time.monotonic()
    response = api.get(READ)

    assert response.status_code == 200
    assert time.monotonic() - started < 1.0


def test_it_recovers_when_redis_comes_back_on_the_same_port(
    api: APIClient, spare_redis
) -> None:
    assert api.get(BURST).status_code == 200
    spare_redis.stop()
    assert api.get(BURST).status_code == 503

    spare_redis.start()
    statuses = [api.get(BURST).status_code for _ in range(6)]

    # A restarted Redis starts empty (no persistence) and has forgotten
    # the script; the limiter reloads it and counts from zero.
    assert statuses == [200] * 5 + [429]


def test_the_outage_warning_repeats_only_after_its_interval() -> None:
    now = [100.0]
    gate = Every(30.0, clock=lambda: now[0])

    first = gate.due()
    soon = gate.due()
    now[0] += 29.9
    still = gate.due()
    now[0] += 0.1
    later = gate.due()

    assert [first, soon, still, later] == [True, False, False, True]
