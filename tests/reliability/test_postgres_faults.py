"""PostgreSQL failing under a running API: 503 JSON, nothing torn, recovery.

The API runs under gunicorn in its own processes. One test terminates its
backends with ``pg_terminate_backend`` while submissions are in flight;
the other cuts the TCP proxy between the API and PostgreSQL for a while.
"""

import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.conf import settings
from django.db import connection

from accounts.tests.factories import UserFactory
from conftest import token_for
from leaderboards.models import Submission
from leaderboards.tests.conftest import make_contest
from tests.support import (
    APP_NAME,
    AppServer,
    Reply,
    TcpProxy,
    board_problems,
    is_error_shape,
    ledger_problems,
    wait_until,
)

pytestmark = pytest.mark.django_db(transaction=True)

CONNECT_TIMEOUT = settings.DATABASES["default"]["OPTIONS"]["connect_timeout"]
POOL_TIMEOUT = settings.DATABASES["default"]["OPTIONS"]["pool"]["timeout"]
# Time for the request itself on top of the timeouts, on a loaded 2-core box.
SLACK = 2.0
RECOVERY_BOUND = 15.0
RECOVERED_STREAK = 8


def _submit(
    server: AppServer, slug: str, token: str, score: int, key: str | None = None
) -> Reply:
    headers = {"Idempotency-Key": key} if key else {}
    return server.http.post(
        f"/api/v1/contests/{slug}/submissions/",
        {"score": score},
        token=token,
        headers=headers,
    )


def _assert_outage(reply: Reply) -> None:
    assert reply.status == 503, reply
    assert is_error_shape(reply.body), reply.body
    assert reply.body["type"] == "server_error"
    assert reply.headers.get("retry-after"), reply.headers


def _terminate_app_backends() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE application_name = %s AND pid <> pg_backend_pid()",
            [APP_NAME],
        )
        return int(cursor.fetchone()[0])


class _Load:
    """Client threads submitting scores, bounded in count and in time."""

    def __init__(
        self, send: Callable[[int], Reply], *, total: int, threads: int, seconds: float
    ) -> None:
        self.replies: list[tuple[int, int, Reply]] = []
        self._send = send
        self._left = iter(range(total))
        self._lock = threading.Lock()
        self._deadline = time.monotonic() + seconds
        self._threads = [threading.Thread(target=self._run) for _ in range(threads)]

    def _run(self) -> None:
        while time.monotonic() < self._deadline:
            with self._lock:
                n = next(self._left, None)
            if n is None:
                return
            score = 1000 + n
            try:
                reply = self._send(n)
            except OSError as exc:  # the server closed on us: count it
                reply = Reply(0, {}, repr(exc), 0.0)
            with self._lock:
                self.replies.append((n, score, reply))

    def __enter__(self) -> "_Load":
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        for thread in self._threads:
            thread.join()

    def acknowledged(self) -> dict[int, int]:
        return {
            r.body["submission"]["id"]: score
            for _, score, r in self.replies
            if r.status == 201
        }


def test_terminated_backends_fail_in_flight_writes_with_503_and_tear_nothing(
    app_server: AppServer,
) -> None:
    contest = make_contest()
    users = UserFactory.create_batch(8)
    tokens = [token_for(user) for user in users]
    assert _submit(app_server, contest.slug, tokens[0], 1).status == 201

    def send(n: int) -> Reply:
        return _submit(app_server, contest.slug, tokens[n % len(tokens)], 1000 + n)

    terminated = 0
    with _Load(send, total=400, threads=6, seconds=30) as load:
        # Kill every backend of the API a few times while the load runs.
        for _ in range(6):
            time.sleep(0.15)
            terminated += _terminate_app_backends()
    crashes = [r for _, _, r in load.replies if r.status not in (201, 503)]

    assert terminated > 0
    assert crashes == []
    for _, _, reply in load.replies:
        if reply.status == 503:
            _assert_outage(reply)
    # Once more with every connection idle in the pools: the next requests
    # must not be handed a dead one.
    assert _terminate_app_backends() > 0
    after = [_submit(app_server, contest.slug, tokens[i], 5000 + i) for i in range(8)]
    assert [reply.status for reply in after] == [201] * 8, after
    acknowledged = load.acknowledged()
    acknowledged.update(
        {r.body["submission"]["id"]: 5000 + i for i, r in enumerate(after)}
    )
    assert ledger_problems(contest, acknowledged) == []
    assert (
        app_server.http.get(f"/api/v1/contests/{contest.slug}/leaderboard/").status
        == 200
    )
    assert board_problems(contest) == []


def test_an_unreachable_database_answers_503_within_the_timeouts_and_recovers(
    proxied_app_server: AppServer, pg_proxy: TcpProxy
) -> None:
    server = proxied_app_server
    contest = make_contest()
    users = UserFactory.create_batch(4)
    tokens = [token_for(user) for user in users]
    acknowledged: dict[int, int] = {}
    for i, token in enumerate(tokens):
        reply = _submit(server, contest.slug, token, 10 + i)
        assert reply.status == 201, reply
        acknowledged[reply.body["submission"]["id"]] = 10 + i

    pg_proxy.cut()
    # Three writes and a read at once: no more than one worker's threads,
    # so none waits in gunicorn's queue behind another's timeout.
    refused_keys = [f"cut-{uuid.uuid4()}" for _ in range(3)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        writes = [
            pool.submit(_submit, server, contest.slug, tokens[i], 100 + i, key)
            for i, key in enumerate(refused_keys)
        ]
        reading = pool.submit(server.http.get, f"/api/v1/contests/{contest.slug}/")
        during = [write.result() for write in writes]
        read = reading.result()
    pg_proxy.restore()

    for reply in [*during, read]:
        _assert_outage(reply)
        assert reply.elapsed < max(CONNECT_TIMEOUT, POOL_TIMEOUT) + SLACK, reply
    # No write that answered 503 may have committed.
    assert not Submission.objects.filter(idempotency_key__in=refused_keys).exists()

    # Each gunicorn worker's pool reconnects on its own backoff (1 s, 2 s,
    # 4 s... while the database was away), so recovery is counted from the
    # restore until a run of successes in a row.
    restored = time.monotonic()
    streak: list[Reply] = []

    def recovered() -> bool:
        reply = _submit(server, contest.slug, tokens[0], 200, f"back-{uuid.uuid4()}")
        if reply.status == 201:
            streak.append(reply)
        else:
            _assert_outage(reply)
            streak.clear()
        return len(streak) >= RECOVERED_STREAK

    assert wait_until(recovered, timeout=RECOVERY_BOUND, interval=0.05), (
        "the API did not recover after the database returned"
    )
    assert time.monotonic() - restored < RECOVERY_BOUND
    acknowledged.update({r.body["submission"]["id"]: 200 for r in streak})
    after = [_submit(server, contest.slug, token, 300) for token in tokens]
    assert [reply.status for reply in after] == [201] * 4, after
    acknowledged.update({r.body["submission"]["id"]: 300 for r in after})
    assert ledger_problems(contest, acknowledged) == []
    assert (
        server.http.get(f"/api/v1/contests/{contest.slug}/leaderboard/").status == 200
    )
    assert board_problems(contest) == []
