"""Log formatters (JSON or key=value) and the one-line-per-request log.

Choose the format with ``LOG_FORMAT=json`` or ``LOG_FORMAT=kv``. Fields
passed with ``extra=`` become fields of the line, so an operator can filter
on them. The request line carries method, path, status, duration, user id
and client address: never headers, query strings, tokens or bodies.
"""

import json
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from django.http import HttpRequest, HttpResponse

# Attributes every LogRecord has; anything else was passed with ``extra=``.
_STANDARD_ATTRS = frozenset(
    logging.LogRecord("", 0, "", 0, "", (), None).__dict__.keys()
    | {"message", "asctime", "taskName"}
)

request_logger = logging.getLogger("contestplatform.request")


class Every:
    """Say yes at most once per ``seconds``, across threads.

    For warnings about an outage: one line per interval, not per request.
    """

    def __init__(
        self, seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.seconds = seconds
        self._clock = clock
        self._last: float | None = None
        self._lock = threading.Lock()

    def due(self) -> bool:
        with self._lock:
            now = self._clock()
            if self._last is not None and now - self._last < self.seconds:
                return False
            self._last = now
            return True


def _extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    return {
        key: value
        for key, value in record.__dict__.items()
        if key not in _STANDARD_ATTRS and not key.startswith("_")
    }


def _timestamp(record: logging.LogRecord) -> str:
    moment = datetime.fromtimestamp(record.created, tz=UTC)
    return moment.isoformat(timespec="milliseconds")


class JSONFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "ts": _timestamp(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        line.update(_extra_fields(record))
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        return json.dumps(line, default=str, ensure_ascii=False)


def _kv_value(value: Any) -> str:
    text = str(value)
    if not text or any(ch in text for ch in ' "=\n\t'):
        return json.dumps(text, ensure_ascii=False)
    return text


class KeyValueFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        pairs: dict[str, Any] = {
            "ts": _timestamp(record),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        pairs.update(_extra_fields(record))
        line = " ".join(f"{key}={_kv_value(value)}" for key, value in pairs.items())
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def client_address(request: HttpRequest) -> str:
    return str(request.META.get("REMOTE_ADDR", ""))


class RequestLogMiddleware:
    """Write one line per request, after the response is ready."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        duration_ms = (time.perf_counter() - started) * 1000
        status = response.status_code
        # 503 is a handled outage with its own warning where it is detected.
        level = logging.ERROR if status >= 500 and status != 503 else logging.INFO
        request_logger.log(
            level,
            "%s %s %s",
            request.method,
            request.path,
            status,
            extra={
                "method": request.method,
                "path": request.path,
                "status": status,
                "duration_ms": round(duration_ms, 2),
                "user_id": _user_id(request, response),
                "client": client_address(request),
            },
        )
        return response


def _user_id(request: HttpRequest, response: HttpResponse) -> int | None:
    # DRF authenticates inside the view and puts the user on its own Request;
    # the view stores it on the response's renderer context.
    context = getattr(response, "renderer_context", None) or {}
    drf_request = context.get("request")
    # Only a user DRF has already settled: reading ``.user`` of a request
    # whose authentication raised would authenticate again, here, outside
    # the view's error handling (a database outage would turn 503 into 500).
    user = getattr(drf_request, "_user", None) or getattr(request, "user", None)
    if user is not None and getattr(user, "is_authenticated", False):
        return getattr(user, "pk", None)
    return None
