"""ASGI entry point: live leaderboard streams, and Django for the rest.

``make run`` serves this with uvicorn beside gunicorn: the stream route
lives here so an open stream holds a coroutine, not a WSGI worker. Every
other path goes to Django's ASGI handler, so this process alone can also
serve the whole API. Production settings unless told otherwise.
"""

import os
from typing import Any

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "contestplatform.settings.production")

django_application = get_asgi_application()

# Imported once Django is set up: the stream module uses its models.
from leaderboards.stream import route, stream_app  # noqa: E402


async def application(scope: Any, receive: Any, send: Any) -> None:
    slug = route(scope)
    if slug is None:
        await django_application(scope, receive, send)
        return
    await stream_app(scope, receive, send, slug)
