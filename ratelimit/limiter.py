"""The Redis limiter: one Lua script checks and counts a request atomically.

Algorithm: GCRA (the generic cell rate algorithm, a token bucket written as
one timestamp). A rate of N per P seconds gives each request a cost of
T = P/N seconds; the bucket stores only its "theoretical arrival time"
(TAT), the moment at which it would be full again. A request at ``now``
is admitted when ``max(TAT, now) + T - now <= N*T``, and then TAT moves
on by T. So N requests may arrive at once, and after that one more every
T seconds.

Why GCRA rather than the other two candidates:

- A sliding log (a sorted set of timestamps) is exact per window but keeps
  one entry per admitted request: a generous read rate of 600/min costs
  600 members per client, times thousands of readers. GCRA keeps one
  integer per identity whatever the rate, and each check is O(1).
- A fixed or approximated sliding window lets up to 2N through around a
  window boundary, or guesses. GCRA has no boundary: the budget refills
  continuously, and the remaining budget and the wait are exact numbers.
- A classic token bucket needs two fields (tokens, last refill) and the
  same arithmetic; GCRA needs one, and its key can expire exactly when the
  bucket is full again (the TTL is ``TAT - now``), so idle identities cost
  nothing.

The trade-off, accepted: N per P is a burst of N plus a refill of N per P,
so a client that waits for each refill can get up to 2N-1 requests through
in one span of P seconds (never more than N at once, and never more than
N per P on average). Clients that follow the RateLimit headers are never
refused.

Everything in the script is integer microseconds (exact in Lua's doubles
up to 2^53, about 285 years past the epoch). The clock is Redis ``TIME``,
so every app server agrees. ``RATELIMIT_CLOCK_OFFSET`` (seconds, unset
outside tests) shifts that clock, so tests move time instead of sleeping.
"""

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django_redis import get_redis_connection
from redis.commands.core import Script
from redis.exceptions import RedisError

from .rates import Rate

# KEYS[1]: the bucket. ARGV: limit N, cost T (us), clock offset (us).
# A write after TIME needs effects replication: the default since Redis 5.
# Returns {admitted 0/1, remaining, us until one more request is admitted}.
GCRA_LUA = """
local limit = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local capacity = limit * interval
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000000 + tonumber(clock[2]) + tonumber(ARGV[3])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then
  tat = now
end
local debt = tat + interval - now
if debt > capacity then
  return {0, 0, debt - capacity}
end
redis.call('SET', KEYS[1], string.format('%d', tat + interval),
  'PX', math.ceil(debt / 1000))
local room = capacity - debt
local remaining = math.floor(room / interval)
return {1, remaining, (remaining + 1) * interval - room}
"""

# TODO(when Redis runs as a cluster): get a RedisCluster client here; the
# keys already carry a hash tag, and the script touches one key.
_script: Script | None = None


class LimiterUnavailableError(Exception):
    """Redis did not answer the limiter in time (down, slow or refusing)."""


@dataclass(frozen=True, slots=True)
class Decision:
    """The limiter's answer for one request in one scope."""

    scope: str
    rate: Rate
    allowed: bool
    remaining: int
    # Seconds until the bucket admits one more request; when refused, the
    # wait before a retry can succeed.
    reset: float


def bucket_key(*, scope: str, identity: str) -> str:
    """Name a bucket; the braces are a Redis Cluster hash tag (one slot)."""
    return f"{settings.REDIS_KEY_PREFIX}:rl:{{{scope}:{identity}}}"


def _gcra(client: Any) -> Script:
    global _script
    if _script is None:
        # The Script keeps its SHA and reloads the source when Redis answers
        # NOSCRIPT (after a restart or SCRIPT FLUSH).
        _script = client.register_script(GCRA_LUA)
    return _script


def _clock_offset_us() -> int:
    offset = float(getattr(settings, "RATELIMIT_CLOCK_OFFSET", 0.0))
    return round(offset * 1_000_000)


def bucket_hit(*, scope: str, identity: str, rate: Rate) -> Decision:
    """Count one request against a bucket and say whether it may proceed.

    One round trip (EVALSHA); raises ``LimiterUnavailableError`` when Redis
    fails, within the connection's socket timeout.
    """
    key = bucket_key(scope=scope, identity=identity)
    args = [rate.limit, rate.interval_us, _clock_offset_us()]
    try:
        client = get_redis_connection("default")
    except NotImplementedError as exc:
        # The default cache is not django-redis (system check W002): treat
        # it as an outage, never as a crash.
        raise LimiterUnavailableError("the default cache is not Redis") from exc
    try:
        allowed, remaining, reset_us = _gcra(client)(
            keys=[key], args=args, client=client
        )
    except (RedisError, OSError) as exc:
        raise LimiterUnavailableError(f"{type(exc).__name__}: {exc}") from exc
    return Decision(
        scope=scope,
        rate=rate,
        allowed=bool(allowed),
        remaining=int(remaining),
        reset=int(reset_us) / 1_000_000,
    )
