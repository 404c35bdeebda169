"""The one error shape of the API, for DRF views and Django's own errors.

Every error under ``/api/`` answers with the shape of drf-standardized-errors::

    {"type": "client_error", "errors": [
        {"code": "not_found", "detail": "Not found.", "attr": null}]}

``type`` is ``validation_error``, ``client_error`` or ``server_error``; each
error has a machine ``code``, a human ``detail`` and, for validation errors,
the ``attr`` (field) it concerns.
"""

import logging
import math
from typing import Any

import psycopg
from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from drf_standardized_errors.handler import ExceptionHandler as BaseExceptionHandler
from rest_framework import exceptions

from .exceptions import PayloadTooLarge, ServiceUnavailable
from .logging import Every

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"
# What a client is told to wait when PostgreSQL cannot be reached: about
# one connect timeout plus one pool timeout.
DATABASE_RETRY_AFTER = 5
DATABASE_WARNING_INTERVAL = 30.0


_database_warning = Every(DATABASE_WARNING_INTERVAL)
# Django wraps driver errors raised through its own connection; psycopg's
# own classes (psycopg_pool.PoolTimeout is one) are listed for any that
# escape the wrapping.
_DATABASE_OUTAGES = (
    OperationalError,
    InterfaceError,
    psycopg.OperationalError,
    psycopg.InterfaceError,
)


def _database_unavailable(exc: Exception) -> ServiceUnavailable:
    # A lost, refused or timed-out connection is an outage, not a bug: the
    # transaction was rolled back, so the client may retry. Logged once per
    # interval so an outage does not write a traceback per request.
    if _database_warning.due():
        logger.warning("PostgreSQL unavailable: %s", exc, exc_info=exc)
    return ServiceUnavailable(
        "The database is unavailable; retry later.",
        code="database_unavailable",
        wait=DATABASE_RETRY_AFTER,
    )


class ExceptionHandler(BaseExceptionHandler):
    def convert_known_exceptions(self, exc: Exception) -> Exception:
        if isinstance(exc, RequestDataTooBig):
            return PayloadTooLarge()
        if isinstance(exc, _DATABASE_OUTAGES):
            return _database_unavailable(exc)
        if isinstance(exc, exceptions.APIException):
            return _flatten_detail_dict(exc)
        return super().convert_known_exceptions(exc)

    def report_exception(self, exc: exceptions.APIException, response: Any) -> None:
        # A 503 is a handled outage (Redis or PostgreSQL down), logged once
        # where it is detected; reporting each one as a crash would flood
        # error monitoring during the outage.
        if exc.status_code == 503:
            return
        super().report_exception(exc, response)

    def get_headers(self, exc: exceptions.APIException) -> dict[str, str]:
        headers = super().get_headers(exc)
        wait = getattr(exc, "wait", None)
        if wait is not None:
            # RFC 9110 wants whole seconds; rounding down would invite a
            # retry that is refused again.
            headers["Retry-After"] = str(max(1, math.ceil(wait)))
        return headers


def _flatten_detail_dict(exc: exceptions.APIException) -> exceptions.APIException:
    # SimpleJWT raises errors whose detail is {"detail": ..., "code": ...}
    # (plus "messages" for tokens); give them the same single-error shape
    # as every other client error.
    detail = exc.detail
    if isinstance(exc, exceptions.ValidationError) or not isinstance(detail, dict):
        return exc
    if "detail" not in detail:
        return exc
    flat = exceptions.APIException(str(detail["detail"]), str(detail.get("code", "")))
    flat.status_code = exc.status_code
    flat.detail = exceptions.ErrorDetail(
        str(detail["detail"]), code=str(detail.get("code") or exc.default_code)
    )
    if hasattr(exc, "auth_header"):
        flat.auth_header = exc.auth_header  # type: ignore[attr-defined]
    return flat


def error_body(code: str, detail: str, *, server: bool = False) -> dict[str, Any]:
    """Build one error in the project's shape, for responses outside DRF."""
    return {
        "type": "server_error" if server else "client_error",
        "errors": [{"code": code, "detail": detail, "attr": None}],
    }


def error_response(
    status_code: int, code: str, detail: str, headers: dict[str, str] | None = None
) -> JsonResponse:
    body = error_body(code, detail, server=status_code >= 500)
    return JsonResponse(body, status=status_code, headers=headers)


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """Answer Django's own 404 (no URL matched) in the shape on API paths."""
    if _is_api(request):
        return error_response(404, "not_found", "Not found.")
    from django.views.defaults import page_not_found as django_page_not_found

    return django_page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """Answer an error raised outside DRF (middleware, URL resolving)."""
    if _is_api(request):
        return error_response(500, "error", "Server Error (500)")
    from django.views.defaults import server_error as django_server_error

    return django_server_error(request)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        return error_response(400, "bad_request", "Bad request.")
    from django.views.defaults import bad_request as django_bad_request

    return django_bad_request(request, exception)


def permission_denied(request: HttpRequest, exception: Exception) -> HttpResponse:
    if _is_api(request):
        detail = "You do not have permission to perform this action."
        return error_response(403, "permission_denied", detail)
    from django.views.defaults import permission_denied as django_permission_denied

    return django_permission_denied(request, exception)
