"""Concurrent submissions and finalizes, with real threads and a live server."""

import json
import threading
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from urllib.error import HTTPError

import pytest
from django.db import connection, transaction
from django.utils import timezone

from accounts.tests.factories import UserFactory
from conftest import token_for
from contestplatform.exceptions import Conflict
from contests.models import Contest
from contests.services import advisory_xact_lock
from leaderboards import board, services
from leaderboards.models import Entry, Standing, Submission
from leaderboards.tests.conftest import make_contest

pytestmark = pytest.mark.django_db(transaction=True)

# Below PostgreSQL's 100 connections: every server thread holds one.
WORKERS = 16


def _post(url: str, token: str, score: int, key: str | None = None) -> int:
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    if key:
        headers["Idempotency-Key"] = key
    request = urllib.request.Request(  # noqa: S310 - the test's own live server
        url, data=json.dumps({"score": score}).encode(), headers=headers, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            return int(response.status)
    except HTTPError as exc:
        return int(exc.code)


def _burst(url: str, token: str, scores: list[int], keys=None) -> list[int]:
    keys = keys or [None] * len(scores)
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        return list(
            pool.map(
                lambda pair: _post(url, token, *pair), zip(scores, keys, strict=True)
            )
        )


def test_200_concurrent_sum_submissions_add_up_exactly(live_server) -> None:
    contest = make_contest(scoring="sum")
    user = UserFactory()
    url = f"{live_server.url}/api/v1/contests/{contest.slug}/submissions/"

    statuses = _burst(url, token_for(user), list(range(1, 201)))

    assert statuses == [201] * 200
    entry = Entry.objects.get(contest=contest, user=user)
    assert entry.score == sum(range(1, 201))
    assert entry.submission_count == entry.version == 200
    assert Submission.objects.filter(contest=contest).count() == 200
    versions = sorted(Submission.objects.values_list("entry_version", flat=True))
    assert versions == list(range(1, 201))
    top = board.page(contest, offset=0, limit=1)
    assert top is not None
    assert top.rows[0].score == sum(range(1, 201))


def test_concurrent_best_submissions_keep_the_best(live_server) -> None:
    contest = make_contest(scoring="best")
    user = UserFactory()
    url = f"{live_server.url}/api/v1/contests/{contest.slug}/submissions/"
    scores = [(n * 37) % 101 for n in range(100)]

    statuses = _burst(url, token_for(user), scores)

    assert statuses == [201] * 100
    entry = Entry.objects.get(contest=contest, user=user)
    assert entry.score == max(scores)
    top = board.page(contest, offset=0, limit=1)
    assert top is not None
    assert top.rows[0].score == max(scores)
    assert Submission.objects.filter(new_best=True, entry_score=max(scores)).exists()


def test_concurrent_retries_with_one_key_write_once(live_server) -> None:
    contest = make_contest(scoring="sum")
    user = UserFactory()
    url = f"{live_server.url}/api/v1/contests/{contest.slug}/submissions/"

    statuses = _burst(url, token_for(user), [5] * 20, keys=["same"] * 20)

    assert statuses == [201] * 20
    assert Entry.objects.get(contest=contest, user=user).score == 5
    assert Submission.objects.filter(contest=contest).count() == 1


def test_two_concurrent_finalizes_write_the_standings_once() -> None:
    contest = make_contest(scoring="best")
    users = UserFactory.create_batch(5)
    for n, user in enumerate(users):
        services.submission_create(contest=contest, user=user, score=n)
    contest.ends_at = contest.starts_at + (contest.ends_at - contest.starts_at) / 10
    contest.save()
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def finalize() -> None:
        try:
            barrier.wait()
            services.contest_finalize(contest=contest)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=finalize) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert Standing.objects.filter(contest=contest).count() == 5
    ranks = Standing.objects.filter(contest=contest).order_by("rank")
    assert [s.user_id for s in ranks] == [u.pk for u in reversed(users)]


def test_a_submission_waiting_on_a_finalize_sees_it_and_writes_nothing() -> None:
    # The lock and the submit statement travel in one message; the
    # statement must still take its snapshot after the lock is granted.
    contest = make_contest()
    user = UserFactory()
    services.submission_create(contest=contest, user=user, score=1)
    locked, release = threading.Event(), threading.Event()
    outcome: list[object] = []

    def finalize_slowly() -> None:
        try:
            with transaction.atomic():
                advisory_xact_lock(services.SUBMIT_LOCK, contest.pk)
                Contest.objects.filter(pk=contest.pk).update(
                    finalized_at=timezone.now()
                )
                locked.set()
                release.wait(timeout=10)
        finally:
            connection.close()

    def submit_meanwhile() -> None:
        try:
            services.submission_create(contest=contest, user=user, score=5)
            outcome.append("accepted")
        except Conflict as exc:
            outcome.append(exc.get_codes())
        finally:
            connection.close()

    finalizer = threading.Thread(target=finalize_slowly)
    finalizer.start()
    assert locked.wait(timeout=10)
    submitter = threading.Thread(target=submit_meanwhile)
    submitter.start()
    submitter.join(timeout=0.5)
    assert submitter.is_alive(), "the submission did not wait for the lock"
    release.set()
    finalizer.join()
    submitter.join(timeout=10)

    assert outcome == ["contest_not_running"]
    assert Submission.objects.filter(contest=contest).count() == 1
    assert Entry.objects.get(contest=contest, user=user).score == 1
