"""System checks for settings that leave the limiter without Redis."""

import pytest

from ratelimit import checks


def _ids(messages) -> list[str]:
    return [message.id for message in messages]


def test_it_warns_when_a_deployment_turns_the_limiter_off(settings) -> None:
    settings.DEBUG = False
    settings.RATELIMIT_ENABLED = False

    assert _ids(checks.check_enabled(None)) == ["ratelimit.W001"]


def test_it_allows_the_limiter_off_in_debug(settings) -> None:
    settings.DEBUG = True
    settings.RATELIMIT_ENABLED = False

    assert checks.check_enabled(None) == []


def test_it_is_quiet_with_the_default_settings() -> None:
    assert checks.check_enabled(None) == []
    assert checks.check_redis_cache(None) == []
    assert checks.check_test_clock(None) == []
    assert checks.check_rates(None) == []


def test_it_warns_when_the_default_cache_is_not_redis(settings) -> None:
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    }

    assert _ids(checks.check_redis_cache(None)) == ["ratelimit.W002"]


def test_it_warns_when_the_test_clock_is_moved(settings) -> None:
    settings.RATELIMIT_CLOCK_OFFSET = 5.0

    assert _ids(checks.check_test_clock(None)) == ["ratelimit.W003"]


def test_it_refuses_a_rate_that_does_not_parse(settings) -> None:
    settings.RATELIMIT_RATES = {**settings.RATELIMIT_RATES, "login": "lots"}

    messages = checks.check_rates(None)

    assert _ids(messages) == ["ratelimit.E001"]
    assert "'login'" in messages[0].msg


@pytest.mark.urls("ratelimit.tests.urls")
def test_it_refuses_a_routed_throttle_whose_scope_has_no_rate(settings) -> None:
    rates = {**settings.RATELIMIT_RATES}
    del rates["test_burst"]
    settings.RATELIMIT_RATES = rates

    messages = checks.check_scopes(None)

    assert _ids(messages) == ["ratelimit.E002"]
    assert "ratelimit.tests.urls.BurstView" in messages[0].msg


@pytest.mark.urls("ratelimit.tests.urls")
def test_every_routed_throttle_has_a_rate() -> None:
    assert checks.check_scopes(None) == []
