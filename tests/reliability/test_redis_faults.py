"""Redis killed, flushed, restarted or failing under a running API.

The API runs under gunicorn on a redis-server the test owns. Every test
counts acknowledged submissions missing from PostgreSQL and board rows
with no committed submission behind them; both must be zero, and once
Redis is back the board must equal the Entry rows exactly.
"""

import itertools
import random
import threading
import time
from typing import Any

import pytest

from accounts.tests.factories import UserFactory
from conftest import token_for
from contestplatform.testing import RedisProcess
from contests.models import Contest, Order, Scoring, Ties
from leaderboards import board
from leaderboards.models import Entry
from leaderboards.tests.conftest import make_contest
from tests.support import (
    AppServer,
    Reply,
    board_problems,
    bulk_users,
    is_error_shape,
    ledger_problems,
    postgres_board,
    seed_board,
    wait_until,
)

pytestmark = pytest.mark.django_db(transaction=True)

# A fail-closed throttle gives up after the Redis socket timeout (0.5 s).
QUICK_503 = 1.5


def _board_url(contest: Contest, **params: Any) -> str:
    query = "&".join(f"{key}={value}" for key, value in params.items())
    return f"/api/v1/contests/{contest.slug}/leaderboard/?{query}"


def _expected_rows(contest: Contest) -> list[tuple[int, int, int]]:
    """The public board from PostgreSQL: (rank, user id, score) per row."""
    visible = [row for row in postgres_board(contest) if not row.hidden]
    sign = -1 if contest.order == Order.DESC else 1
    rows = []
    for position, row in enumerate(visible):
        rank = position + 1
        if contest.ties == Ties.SHARED:
            rank = 1 + sum(1 for o in visible if sign * o.score < sign * row.score)
        rows.append((rank, row.user_id, row.score))
    return rows


def _page_rows(reply: Reply) -> list[tuple[int, int, int]]:
    return [(r["rank"], r["user_id"], r["score"]) for r in reply.body["results"]]


def test_submissions_while_redis_dies_answer_503_quickly_or_succeed_durably(
    app_server: AppServer, own_redis: RedisProcess
) -> None:
    contest = make_contest()
    users = UserFactory.create_batch(12)
    tokens = [token_for(user) for user in users]
    url = f"/api/v1/contests/{contest.slug}/submissions/"
    replies: list[tuple[int, Reply]] = []
    lock = threading.Lock()
    counter = itertools.count()
    deadline = time.monotonic() + 40

    def client() -> None:
        while time.monotonic() < deadline:
            n = next(counter)
            if n >= 360:
                return
            score = random.randint(-500, 500)
            reply = app_server.http.post(
                url, {"score": score}, token=tokens[n % len(tokens)]
            )
            with lock:
                replies.append((score, reply))

    threads = [threading.Thread(target=client) for _ in range(6)]
    for thread in threads:
        thread.start()
    wait_until(lambda: len(replies) >= 100, timeout=20, interval=0.01)
    own_redis.stop()
    wait_until(lambda: len(replies) >= 200, timeout=20, interval=0.01)
    own_redis.start()
    for thread in threads:
        thread.join()

    statuses = [reply.status for _, reply in replies]
    assert set(statuses) <= {201, 503}, [r for _, r in replies if r.status != 201][:3]
    assert 503 in statuses, "the outage was never seen"
    for _, reply in replies:
        if reply.status == 503:
            assert is_error_shape(reply.body)
            assert reply.headers["retry-after"]
            assert reply.elapsed < QUICK_503, reply
    acknowledged = {
        reply.body["submission"]["id"]: score
        for score, reply in replies
        if reply.status == 201
    }
    assert ledger_problems(contest, acknowledged) == []

    # Redis came back empty; the app, never restarted, rebuilds on read.
    read = app_server.http.get(_board_url(contest, limit=200))
    assert read.status == 200
    assert _page_rows(read) == _expected_rows(contest)
    assert board_problems(contest) == []


def _thousands(contest: Contest, count: int) -> None:
    users = bulk_users(count, prefix=f"p{contest.pk}-")
    rng = random.Random(contest.pk)
    # Few distinct scores: long runs of ties.
    seed_board(contest, users, [rng.randint(0, 40) for _ in users])
    hidden = [user.pk for user in users[::97]]
    Entry.objects.filter(contest=contest, user_id__in=hidden).update(hidden=True)


@pytest.mark.parametrize(
    ("fault", "ties", "order"),
    [
        ("flush", Ties.EARLIEST, Order.DESC),
        ("flush", Ties.SHARED, Order.ASC),
        ("restart", Ties.SHARED, Order.DESC),
    ],
)
def test_a_lost_board_is_rebuilt_and_no_partial_board_is_ever_shown(
    app_server: AppServer, own_redis: RedisProcess, fault: str, ties: str, order: str
) -> None:
    contest = make_contest(ties=ties, order=order, scoring=Scoring.BEST)
    _thousands(contest, 3000)
    expected = _expected_rows(contest)
    limit = 200
    assert app_server.http.get(_board_url(contest, limit=1)).status == 200
    assert board_problems(contest) == []

    seen: list[tuple[int, Reply]] = []
    lock = threading.Lock()
    stop = threading.Event()

    def reader(seed: int) -> None:
        rng = random.Random(seed)
        for _ in range(60):
            if stop.is_set():
                return
            offset = rng.randrange(0, len(expected), 37)
            reply = app_server.http.get(_board_url(contest, offset=offset, limit=limit))
            with lock:
                seen.append((offset, reply))

    readers = [threading.Thread(target=reader, args=(i,)) for i in range(4)]
    for thread in readers:
        thread.start()
    wait_until(lambda: len(seen) >= 20, timeout=20, interval=0.01)
    if fault == "flush":
        board.client().flushdb()
    else:
        own_redis.stop()
        wait_until(lambda: len(seen) >= 60, timeout=20, interval=0.01)
        own_redis.start()
    for thread in readers:
        thread.join(timeout=60)
    stop.set()

    assert len(seen) == 240
    for offset, reply in seen:
        assert reply.status == 200, reply
        # Complete or not served: the count is the whole board's, the rows
        # are exactly the ones PostgreSQL ranks at that offset.
        assert reply.body["count"] == len(expected)
        assert _page_rows(reply) == expected[offset : offset + limit], offset
    final = app_server.http.get(_board_url(contest, offset=0, limit=1))
    assert final.status == 200
    assert board_problems(contest) == []


def test_a_board_step_failing_after_the_commit_answers_201_and_is_repaired(
    app_server: AppServer,
) -> None:
    contest = make_contest()
    users = UserFactory.create_batch(3)
    url = f"/api/v1/contests/{contest.slug}/submissions/"
    for score, user in enumerate(users):
        assert app_server.http.post(url, {"score": score}, token=token_for(user))
    # Redis keeps answering (so the throttle admits), but the board script
    # now fails: its sorted set holds a string.
    keys = board.Keys.of(contest.pk)
    board.client().set(keys.all, "not a sorted set")

    reply = app_server.http.post(url, {"score": 99}, token=token_for(users[0]))

    assert reply.status == 201, reply
    assert reply.body["rank"] is None
    assert reply.body["score"] == 99
    contest.refresh_from_db()
    assert contest.board_stale_since is not None
    read = app_server.http.get(_board_url(contest))
    assert read.status == 200
    assert _page_rows(read)[0] == (1, users[0].pk, 99)
    assert ledger_problems(contest, {reply.body["submission"]["id"]: 99}) == []
    assert board_problems(contest) == []
    contest.refresh_from_db()
    assert contest.board_stale_since is None


def test_reads_while_redis_is_down_are_served_from_postgres(
    app_server: AppServer, own_redis: RedisProcess
) -> None:
    contest = make_contest(ties=Ties.SHARED)
    _thousands(contest, 300)
    user = Entry.objects.filter(contest=contest, hidden=False).first().user
    expected = _expected_rows(contest)
    own_redis.stop()

    page = app_server.http.get(_board_url(contest, offset=10, limit=50))
    one = app_server.http.get(
        f"/api/v1/contests/{contest.slug}/leaderboard/users/{user.pk}/"
    )
    mine = app_server.http.get(
        f"/api/v1/contests/{contest.slug}/leaderboard/me/", token=token_for(user)
    )

    assert page.status == 200, page
    assert _page_rows(page) == expected[10:60]
    assert one.status == 200, one
    assert _page_rows(one) == [row for row in expected if row[1] == user.pk]
    assert mine.status == 200, mine
    assert mine.body["rank"] == next(r for r, uid, _ in expected if uid == user.pk)
