"""Put the rate-limit header fields on every response a throttle counted."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from .headers import header_fields, recall


class RateLimitHeadersMiddleware:
    """Copy the throttles' decisions into RateLimit and RateLimit-Policy.

    A middleware rather than a view mixin, so any view that lists one of
    the throttle classes gets the headers, on 2xx and 429 alike.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        for name, value in header_fields(recall(request)).items():
            response.headers[name] = value
        return response
