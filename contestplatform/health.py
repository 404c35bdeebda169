"""Liveness and readiness probes for load balancers and orchestrators."""

import logging

from django.db import connection
from django.db.utils import Error as DatabaseError
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from django_redis import get_redis_connection
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Answer as long as the process serves requests; touches no service."""
    return JsonResponse({"status": "ok"})


def _check_postgres() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError:
        logger.warning("readiness: PostgreSQL unreachable", exc_info=True)
        return False
    return True


def _check_redis() -> bool:
    try:
        get_redis_connection("default").ping()
    except (RedisError, OSError):
        logger.warning("readiness: Redis unreachable", exc_info=True)
        return False
    return True


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    """Answer 200 when PostgreSQL and Redis answer, else 503 naming which."""
    checks = {
        "postgres": "ok" if _check_postgres() else "unavailable",
        "redis": "ok" if _check_redis() else "unavailable",
    }
    ready = all(state == "ok" for state in checks.values())
    body = {"status": "ok" if ready else "unavailable", "checks": checks}
    response = JsonResponse(body, status=200 if ready else 503)
    if not ready:
        response["Retry-After"] = "5"
    return response
