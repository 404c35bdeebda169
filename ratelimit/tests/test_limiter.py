"""The Lua script itself, called directly: exactness, edges, keys, TTLs."""

import threading

import pytest
from django.conf import settings
from django_redis import get_redis_connection

from ratelimit.limiter import (
    LimiterUnavailableError,
    bucket_hit,
    bucket_key,
)
from ratelimit.rates import Rate, parse_rate

# 5 per 50 s: one request costs 10 s, so real time passing during a test
# (milliseconds) stays far from every edge the tests probe.
FIVE = Rate(limit=5, period=50)


def _hit(identity: str = "ip:192.0.2.1", rate: Rate = FIVE):
    return bucket_hit(scope="test", identity=identity, rate=rate)


def _admitted(count: int, identity: str = "ip:192.0.2.1", rate: Rate = FIVE) -> int:
    return sum(_hit(identity, rate).allowed for _ in range(count))


def test_it_admits_exactly_the_limit_from_a_concurrent_burst() -> None:
    barrier = threading.Barrier(50)
    results: list[bool] = []
    lock = threading.Lock()

    def attempt() -> None:
        barrier.wait()
        allowed = _hit().allowed
        with lock:
            results.append(allowed)

    threads = [threading.Thread(target=attempt) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(results) == 50
    assert results.count(True) == 5


def test_it_counts_down_the_remaining_budget() -> None:
    decisions = [_hit() for _ in range(6)]

    assert [d.remaining for d in decisions] == [4, 3, 2, 1, 0, 0]
    assert [d.allowed for d in decisions] == [True] * 5 + [False]


def test_it_refuses_until_exactly_one_interval_has_passed(clock) -> None:
    assert _admitted(5) == 5

    clock.advance(9.5)
    refused = _hit()
    clock.advance(0.5)
    admitted = _hit()
    after = _hit()

    assert not refused.allowed
    assert 0.4 < refused.reset <= 0.5
    assert admitted.allowed
    assert admitted.remaining == 0
    assert not after.allowed


def test_it_refills_the_whole_burst_after_one_window(clock) -> None:
    assert _admitted(5) == 5

    clock.advance(50)

    assert _admitted(6) == 5


def test_it_does_not_let_an_idle_bucket_save_up_beyond_the_burst(clock) -> None:
    _admitted(5)
    clock.advance(3600)

    assert _admitted(10) == 5


def test_refused_requests_do_not_push_the_refill_back(clock) -> None:
    assert _admitted(5) == 5
    assert _admitted(100) == 0

    clock.advance(10)

    assert _hit().allowed


def test_it_says_how_long_a_refused_request_must_wait(clock) -> None:
    _admitted(5)

    refused = _hit()

    # One request costs 10 s; the first refill is 10 s after the burst.
    assert 9.9 < refused.reset <= 10
    clock.advance(refused.reset)
    assert _hit().allowed


def test_it_keeps_buckets_of_identities_and_scopes_apart() -> None:
    assert _admitted(5, "ip:192.0.2.1") == 5

    other_identity = _hit("ip:192.0.2.2")
    other_scope = bucket_hit(scope="other", identity="ip:192.0.2.1", rate=FIVE)

    assert other_identity.allowed
    assert other_scope.allowed


def test_the_key_is_prefixed_and_hash_tagged() -> None:
    key = bucket_key(scope="login", identity="ip:192.0.2.1")

    assert key == f"{settings.REDIS_KEY_PREFIX}:rl:{{login:ip:192.0.2.1}}"


def test_every_key_expires_when_its_bucket_is_full_again() -> None:
    redis = get_redis_connection("default")
    key = bucket_key(scope="test", identity="ip:192.0.2.1")

    _hit()
    ttl_after_one = redis.pttl(key)
    _admitted(4)
    ttl_after_five = redis.pttl(key)

    assert 9_000 < ttl_after_one <= 10_000
    assert 49_000 < ttl_after_five <= 50_000


def test_it_uses_the_redis_clock() -> None:
    redis = get_redis_connection("default")
    seconds, micros = redis.time()
    before = seconds * 1_000_000 + micros

    _hit()

    stored = int(redis.get(bucket_key(scope="test", identity="ip:192.0.2.1")))
    seconds, micros = redis.time()
    after = seconds * 1_000_000 + micros
    cost = FIVE.interval_us
    assert before + cost <= stored <= after + cost


def test_it_reloads_the_script_when_redis_has_forgotten_it() -> None:
    _hit()
    get_redis_connection("default").script_flush()

    assert _hit().remaining == 3


def test_a_rate_that_does_not_divide_evenly_still_admits_the_limit(clock) -> None:
    seven = Rate(limit=7, period=10)

    assert _admitted(8, rate=seven) == 7
    clock.advance(10)
    assert _admitted(8, rate=seven) == 7


def test_it_raises_when_redis_is_down(spare_redis) -> None:
    spare_redis.stop()

    with pytest.raises(LimiterUnavailableError):
        _hit()


@pytest.mark.parametrize(
    ("text", "limit", "period"),
    [
        ("10/10s", 10, 10),
        ("5/min", 5, 60),
        ("5/m", 5, 60),
        ("600/1min", 600, 60),
        ("100/h", 100, 3600),
        ("20/2d", 20, 172800),
        (" 3 / 1 sec ", 3, 1),
        ("7/HOUR", 7, 3600),
    ],
)
def test_it_parses_rates(text: str, limit: int, period: int) -> None:
    assert parse_rate(text) == Rate(limit=limit, period=period)


@pytest.mark.parametrize("text", ["", "10", "10/", "0/s", "5/0s", "5/fortnight", "x/s"])
def test_it_refuses_malformed_rates(text: str) -> None:
    with pytest.raises(ValueError, match="not a rate"):
        parse_rate(text)
