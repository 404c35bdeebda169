"""System checks: live-stream settings that would break the streams' bounds."""

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage, Error, register

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
