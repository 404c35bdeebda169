"""The production URLs plus the floor: a bare Django view, constant JSON.

The floor is what the server, Django and its middleware cost with no
app work at all; every scenario is reported as a ratio to it, measured
in the same run, because this machine's speed varies from run to run.
"""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from contestplatform.urls import handler400, handler403, handler404, handler500
from contestplatform.urls import urlpatterns as production

_BODY = b'{"status":"ok"}'


def floor(request: HttpRequest) -> HttpResponse:
    return HttpResponse(_BODY, content_type="application/json")


urlpatterns = [path("bench/floor/", floor, name="bench-floor"), *production]

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]
