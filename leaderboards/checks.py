"""System checks: settings the submission path and the live streams rely on."""

from collections.abc import Mapping, Sequence
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, register

# Setting, what it bounds, and the smallest value that keeps the bound.
_POSITIVE = (
    ("STREAM_HEARTBEAT_SECONDS", "the silence before a heartbeat", 0.1),
    # asyncio.Queue(0) has no bound at all: a slow client would grow it
    # without end instead of being dropped.
    ("STREAM_QUEUE_SIZE", "the events queued for one subscriber", 1),
    ("STREAM_BUFFER_SIZE", "the events kept for reconnecting clients", 1),
)


@register()
def check_stream_settings(
    app_configs: Sequence[AppConfig] | None, **kwargs: Any
) -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    for name, bounds, smallest in _POSITIVE:
        value = getattr(settings, name)
        if value < smallest:
            errors.append(
                Error(
                    f"{name} is {value}; it bounds {bounds} and must be at "
                    f"least {smallest}.",
                    hint=f"Unset {name} for the default, or raise it.",
                    id="leaderboards.E001",
                )
            )
    return errors


@register(Tags.database)
def check_client_side_binding(
    app_configs: Sequence[AppConfig] | None, **kwargs: Any
) -> list[CheckMessage]:
    """The submission sends its lock and its statement in one message.

    PostgreSQL refuses two statements in one prepared (server-side bound)
    query, so every submission would fail.
    """
    return binding_errors(settings.DATABASES["default"].get("OPTIONS", {}))


def binding_errors(options: Mapping[str, Any]) -> list[CheckMessage]:
    if not options.get("server_side_binding"):
        return []
    return [
        Error(
            "DATABASES['default']['OPTIONS']['server_side_binding'] is on; "
            "score submissions need client-side binding.",
            hint="Remove the option (Django's default is off); see "
            "leaderboards.services._write_submission.",
            id="leaderboards.E002",
        )
    ]
