"""Content negotiation with a fast path for the common JSON request."""

from collections.abc import Iterable
from typing import Any

from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request

# What API clients send (or nothing at all); each means JSON here.
_PLAIN_ACCEPTS = frozenset(("", "*/*", "application/json"))


class ContentNegotiation(DefaultContentNegotiation):
    """DRF's negotiation, except that a plain JSON request skips the parsing.

    Parsing the Accept header and matching it against each renderer cost
    a few percent of a leaderboard read. When the view's first renderer is
    JSON and the client asks for JSON or anything, the answer is the one
    DRF would give; every other request goes through DRF unchanged.
    """

    def select_renderer(
        self,
        request: Request,
        renderers: Iterable[BaseRenderer],
        format_suffix: str | None = None,
    ) -> Any:
        renderers = list(renderers)
        if renderers and not format_suffix:
            first = renderers[0]
            accept = request.META.get("HTTP_ACCEPT", "")
            if (
                first.media_type == "application/json"
                and accept in _PLAIN_ACCEPTS
                and self.settings.URL_FORMAT_OVERRIDE not in request.query_params
            ):
                return first, first.media_type
        return super().select_renderer(request, renderers, format_suffix)
