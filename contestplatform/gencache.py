"""Rows cached in Redis that a write makes stale at once, for every process.

A family of cached values shares a generation key holding a random token.
A value is stored as ``token|payload`` and counts only while its token is
the current one; a write replaces the token, so every value cached before
it is dead on the next read, in every process. Each read is one MGET of
the generation key and the value's key (one hash tag: one Redis Cluster
slot), so a hit costs one round trip instead of a PostgreSQL query.

Why a token and not a plain DELETE: a reader may load the row from
PostgreSQL just before a writer commits and store it just after the
writer deleted the key; that old row would then be served until it
expires. Here the reader tags the value with the token it saw *before*
loading, so the writer's new token makes the late value dead on arrival.

Writers invalidate twice: at once, so a read in the same transaction (and
a test inside one) sees the change, and again after the commit, because a
reader between the first invalidation and the commit may have cached the
old row under the new token.

If Redis fails, reads go to PostgreSQL and an invalidation that could not
be written is logged; the values' TTL then bounds how long a stale value
can be served once Redis answers again.
"""

import json
import logging
import secrets
import time
from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, cast

from django.conf import settings
from django.db import transaction
from django.db.models import Field, Model
from django.utils.duration import duration_iso_string
from django_redis import get_redis_connection
from redis import Redis
from redis.exceptions import RedisError

from .memo import Memo

logger = logging.getLogger(__name__)

# Warn about Redis failures at most this often per process.
_WARN_EVERY = 30.0
# What a kept value may be: a list or a dict would be shared by every row.
_IMMUTABLE = (str, int, float, Decimal, date, timedelta, type(None))
# Field values parsed by row_parse, per process, by the exact bytes parsed.
_parsed: Memo[tuple[type[Model], tuple[str, ...], bytes], tuple[Any, ...]] = Memo(4096)


def _client() -> Redis:
    return get_redis_connection("default")  # type: ignore[no-any-return]


class GenerationCache:
    """Cache values of one family in Redis, invalidated by generation.

    ``family`` names the keys; ``scope`` picks the generation a value
    belongs to (a user id, or one scope for all contests), ``key`` the
    value within it. A generation outlives its values, so a value never
    finds its generation missing while it still counts.
    """

    def __init__(self, family: str, *, ttl: int, enabled: Callable[[], bool]):
        self.family = family
        self.ttl = ttl
        self.generation_ttl = ttl * 10
        self.enabled = enabled
        self._warned_at = 0.0

    def _base(self, scope: str) -> str:
        return f"{settings.REDIS_KEY_PREFIX}:{{{self.family}:{scope}}}"

    def get(
        self,
        scope: str,
        key: str,
        *,
        load: Callable[[], Any],
        dump: Callable[[Any], bytes],
        parse: Callable[[bytes], Any],
    ) -> Any:
        """Return the cached value, or ``load()`` it and cache it if not None."""
        if not self.enabled():
            return load()
        base = self._base(scope)
        generation_key, value_key = f"{base}:gen", f"{base}:v:{key}"
        try:
            redis = _client()
            found = redis.mget(generation_key, value_key)
            generation, raw = cast(list[bytes | None], found)
            if generation is None:
                generation = self._start(redis, generation_key)
            elif raw is not None and raw.startswith(generation + b"|"):
                return parse(raw[len(generation) + 1 :])
        except RedisError as exc:
            self._warn("read", exc)
            return load()
        value = load()
        if value is not None:
            try:
                redis.set(value_key, generation + b"|" + dump(value), ex=self.ttl)
            except RedisError as exc:
                self._warn("write", exc)
        return value

    def _start(self, redis: Redis, generation_key: str) -> bytes:
        """Return the current token, creating one if Redis has none."""
        token = secrets.token_hex(8).encode()
        # NX GET: of two readers starting a generation at once, both leave
        # with the token that was stored, before either loads its row.
        earlier = redis.set(
            generation_key, token, nx=True, get=True, ex=self.generation_ttl
        )
        return earlier if isinstance(earlier, bytes) else token

    def invalidate(self, scope: str) -> None:
        """Make every value of ``scope`` stale now and again after the commit."""
        self._replace(scope)
        transaction.on_commit(lambda: self._replace(scope))

    def _replace(self, scope: str) -> None:
        token = secrets.token_hex(8)
        try:
            _client().set(f"{self._base(scope)}:gen", token, ex=self.generation_ttl)
        except RedisError:
            logger.exception(
                "cache invalidation failed; stale values may be served until "
                "they expire",
                extra={"family": self.family, "scope": scope, "ttl": self.ttl},
            )

    def _warn(self, what: str, exc: RedisError) -> None:
        now = time.monotonic()
        if now - self._warned_at >= _WARN_EVERY:
            self._warned_at = now
            logger.warning(
                "cache %s failed; reading PostgreSQL",
                what,
                extra={"family": self.family},
                exc_info=exc,
            )


def row_dump(instance: Model, attnames: Sequence[str]) -> bytes:
    """Encode the given fields of a row as JSON (never pickle: Redis is shared)."""
    values = [getattr(instance, name) for name in attnames]
    return json.dumps(values, default=_encode, separators=(",", ":")).encode()


def _encode(value: object) -> str:
    # Not DjangoJSONEncoder: it cuts datetimes to milliseconds, and a
    # contest's times must come back exactly as PostgreSQL holds them.
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, timedelta):
        return duration_iso_string(value)
    raise TypeError(f"cannot cache a {type(value).__name__}")


def row_parse[M: Model](model: type[M], attnames: Sequence[str], raw: bytes) -> M:
    """Rebuild a row from ``row_dump`` output; other fields load on access.

    ``attnames`` must follow the model's field order, as ``from_db`` wants.
    A row rebuilt with fields left out saves only the fields it holds.

    Decoding the JSON and converting each value costs more than the round
    trip that fetched it, so the converted values (immutable: numbers,
    text, times) are kept per process by the bytes they came from; every
    call still builds a new instance, so no request sees another's.
    """
    key = (model, tuple(attnames), raw)
    values = _parsed.get(key)
    if values is None:
        fields = [
            cast(Field[Any, Any], model._meta.get_field(name)) for name in attnames
        ]
        values = tuple(
            field.to_python(value)
            for field, value in zip(fields, json.loads(raw), strict=True)
        )
        if all(isinstance(value, _IMMUTABLE) for value in values):
            _parsed.put(key, values)
    return model.from_db("default", attnames, list(values))
