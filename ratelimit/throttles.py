"""DRF throttle classes backed by the Redis limiter, one class per scope.

Attach them with ``throttle_classes``; each counts the request in Redis
(see ``limiter``) instead of DRF's cache throttles, whose read-then-write
lets concurrent bursts through. A new scope is a subclass of
``RedisThrottle`` with ``scope = "..."`` and an entry in
``RATELIMIT_RATES``. Refused requests answer 429 with ``Retry-After``;
``RateLimitHeadersMiddleware`` adds the RateLimit header fields.

When Redis fails, a fail-closed scope answers 503 with ``Retry-After``
(the request would otherwise go uncounted) and a fail-open scope lets the
request through. Either way one warning per ``OUTAGE_LOG_INTERVAL`` per
process says so, not one per request.
"""

import logging
from typing import ClassVar

from django.conf import settings
from django.utils.crypto import salted_hmac
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import TokenBackendError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.state import token_backend

from contestplatform.exceptions import ServiceUnavailable
from contestplatform.logging import Every

from .headers import remember
from .identity import client_ip, user_or_ip
from .limiter import Decision, LimiterUnavailableError, bucket_hit
from .rates import rate_for

logger = logging.getLogger(__name__)

# What a client is told to wait when the limiter itself is down.
UNAVAILABLE_RETRY_AFTER = 5
OUTAGE_LOG_INTERVAL = 30.0
# Longer values are not tokens this API issued; skip decoding them.
_MAX_TOKEN_LENGTH = 4096


outage_log = Every(OUTAGE_LOG_INTERVAL)


class RedisThrottle(BaseThrottle):
    """Count requests per identity in a scope; subclass with ``scope``."""

    scope: ClassVar[str] = ""
    # True: a Redis outage lets requests through; False: it answers 503.
    fail_open: ClassVar[bool] = False
    # Methods that are counted; None counts every method.
    methods: ClassVar[frozenset[str] | None] = None

    def __init__(self) -> None:
        self._decision: Decision | None = None

    def get_identity(self, request: Request) -> str:
        """Return who is charged: the user if known, else the address."""
        return user_or_ip(request)

    def allow_request(self, request: Request, view: APIView) -> bool:
        if not settings.RATELIMIT_ENABLED:
            return True
        if self.methods is not None and request.method not in self.methods:
            return True
        rate = rate_for(self.scope)
        identity = self.get_identity(request)
        try:
            decision = bucket_hit(scope=self.scope, identity=identity, rate=rate)
        except LimiterUnavailableError as exc:
            return self._without_redis(exc)
        remember(request, decision)
        self._decision = decision
        return decision.allowed

    def wait(self) -> float | None:
        if self._decision is None or self._decision.allowed:
            return None
        return self._decision.reset

    def _without_redis(self, exc: LimiterUnavailableError) -> bool:
        mode = "open" if self.fail_open else "closed"
        if outage_log.due():
            logger.warning(
                "rate limiter cannot reach Redis, scope %s fails %s: %s",
                self.scope,
                mode,
                exc,
                extra={"event": "ratelimit_unavailable", "scope": self.scope},
            )
        if self.fail_open:
            return True
        raise ServiceUnavailable(
            "Rate limiting is unavailable; retry later.",
            wait=UNAVAILABLE_RETRY_AFTER,
        )


_UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class SubmissionThrottle(RedisThrottle):
    """Score submissions, per user; listing them is a read."""

    scope = "submission"
    methods = _UNSAFE_METHODS


def _email_digest(request: Request) -> str:
    data = request.data
    email = data.get("email", "") if isinstance(data, dict) else ""
    normalized = str(email).strip().lower()
    # Keyed, so the Redis key space does not list who tried to log in.
    return salted_hmac("ratelimit.login", normalized, algorithm="sha256").hexdigest()[
        :32
    ]


class LoginThrottle(RedisThrottle):
    """Token obtain, per client address and email: password guessing."""

    scope = "login"

    def get_identity(self, request: Request) -> str:
        return f"ip:{client_ip(request)}:email:{_email_digest(request)}"


class LoginIPThrottle(RedisThrottle):
    """Token obtain, per client address: spraying many emails."""

    scope = "login_ip"

    def get_identity(self, request: Request) -> str:
        return f"ip:{client_ip(request)}"


class RegisterThrottle(RedisThrottle):
    """Registration, per client address."""

    scope = "register"

    def get_identity(self, request: Request) -> str:
        return f"ip:{client_ip(request)}"


def _refresh_token_user(request: Request) -> str | None:
    data = request.data
    raw = data.get("refresh") if isinstance(data, dict) else None
    if not isinstance(raw, str) or len(raw) > _MAX_TOKEN_LENGTH:
        return None
    try:
        # SimpleJWT annotates the raw token as its Token class; it is a str.
        payload = token_backend.decode(raw, verify=True)  # type: ignore[arg-type]
    except TokenBackendError:
        return None
    if payload.get(jwt_settings.TOKEN_TYPE_CLAIM) != "refresh":
        return None
    user_id = payload.get(jwt_settings.USER_ID_CLAIM)
    return None if user_id is None else str(user_id)


class RefreshThrottle(RedisThrottle):
    """Token refresh and logout, per user, else per client address.

    The endpoint has no authenticated user, so the user comes from the
    refresh token, but only once its signature checks out: a claim read
    without verifying could be forged to drain a victim's budget. Bad,
    expired or foreign tokens count against the client address instead.
    Revocation is not looked up (that needs the database); a revoked but
    well-signed token counts against its owner until it expires.
    """

    scope = "refresh"

    def get_identity(self, request: Request) -> str:
        user_id = _refresh_token_user(request)
        if user_id is not None:
            return f"user:{user_id}"
        return f"ip:{client_ip(request)}"


class ReadThrottle(RedisThrottle):
    """Contest and leaderboard reads, per user or address; fails open."""

    scope = "read"
    fail_open = True
    methods = frozenset(SAFE_METHODS)


class AdminWriteThrottle(RedisThrottle):
    """Admin changes, per user; reads through the same view are free."""

    scope = "admin_write"
    methods = _UNSAFE_METHODS


class UserWriteThrottle(RedisThrottle):
    """A user's changes to their own data (join, leave, profile), per user."""

    scope = "user_write"
    methods = _UNSAFE_METHODS


class StreamConnectThrottle(RedisThrottle):
    """Opening a live stream, per user or address; fails open."""

    scope = "stream_connect"
    fail_open = True
