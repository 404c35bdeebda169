"""System checks: settings that would leave the limiter without Redis."""

from collections.abc import Iterator, Sequence
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register
from django.core.checks import Warning as CheckWarning
from django.urls import URLPattern, URLResolver, get_resolver

from .rates import parse_rate

REDIS_CACHE_BACKEND = "django_redis.cache.RedisCache"


@register(Tags.security, deploy=True)
def check_enabled(
    app_configs: Sequence[AppConfig] | None, **kwargs: Any
) -> list[CheckMessage]:
    """Warn when a deployment turns the limiter off."""
    if settings.RATELIMIT_ENABLED or settings.DEBUG:
        return []
    return [
        CheckWarning(
            "Rate limiting is off (RATELIMIT_ENABLED=false) with DEBUG off.",
            hint="Unset RATELIMIT_ENABLED outside benchmarks; raise rates "
            "with RATELIMIT_RATE_<SCOPE> instead.",
            id="ratelimit.W001",
        )
    ]


@register(Tags.caches)
def check_redis_cache(
    app_configs: Sequence[AppConfig] | None, **kwargs: Any
) -> list[CheckMessage]:
    """Warn when the default cache is not Redis: every check would fail."""
    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    if not settings.RATELIMIT_ENABLED or backend == REDIS_CACHE_BACKEND:
        return []
    return [
        CheckWarning(
            f"The rate limiter needs CACHES['default'] to be {REDIS_CACHE_BACKEND}"
            f", not {backend or 'unset'}.",
            hint="Fail-closed scopes (login, registration, refresh, "
            "submissions) would answer 503 to every request.",
            id="ratelimit.W002",
        )
    ]


@register(Tags.security, deploy=True)
def check_test_clock(
    app_configs: Sequence[AppConfig] | None, **kwargs: Any
) -> list[CheckMessage]:
    """Warn when the test-only clock offset leaks into a deployment."""
    if not getattr(settings, "RATELIMIT_CLOCK_OFFSET", 0):
        return []
    return [
        CheckWarning(
            "RATELIMIT_CLOCK_OFFSET shifts the limiter's clock; it is for tests.",
            hint="Remove it: changing it lets a burst through.",
            id="ratelimit.W003",
        )
    ]


@register()
def check_rates(
    app_configs: Sequence[AppConfig] | None, **kwargs: Any
) -> list[CheckMessage]:
    """Refuse rates that do not parse."""
    errors: list[CheckMessage] = []
    for scope, text in settings.RATELIMIT_RATES.items():
        try:
            parse_rate(text)
        except ValueError as exc:
            errors.append(
                Error(
                    f"RATELIMIT_RATES[{scope!r}]: {exc}",
                    hint=f"Set RATELIMIT_RATE_{scope.upper()} to e.g. '10/10s'.",
                    id="ratelimit.E001",
                )
            )
    return errors


def _views(patterns: Sequence[URLPattern | URLResolver]) -> Iterator[Any]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _views(pattern.url_patterns)
        else:
            # DRF's as_view() keeps the view class on the function.
            yield getattr(pattern.callback, "cls", None)


@register(Tags.urls)
def check_scopes(
    app_configs: Sequence[AppConfig] | None, **kwargs: Any
) -> list[CheckMessage]:
    """Refuse a throttle on a routed view whose scope has no rate."""
    from .throttles import RedisThrottle

    rates = settings.RATELIMIT_RATES
    missing: dict[str, str] = {}
    for view in _views(get_resolver().url_patterns):
        for throttle in getattr(view, "throttle_classes", ()):
            if issubclass(throttle, RedisThrottle) and throttle.scope not in rates:
                name = f"{view.__module__}.{view.__qualname__}"
                missing.setdefault(throttle.scope, name)
    return [
        Error(
            f"{name} is throttled by scope {scope!r}, which has no rate.",
            hint="Add it to RATELIMIT_RATES in settings.",
            id="ratelimit.E002",
        )
        for scope, name in missing.items()
    ]
