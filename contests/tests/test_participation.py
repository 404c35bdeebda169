"""Joining and leaving a contest, one user at a time and all at once."""

import threading
from collections import Counter

import pytest
from django.db import connection

from accounts.tests.factories import UserFactory
from conftest import client_for
from contests.models import Participation

from .factories import ContestFactory, ParticipationFactory
from .helpers import action_url, detail_url, error_code

pytestmark = pytest.mark.django_db


def _join(client, contest):
    return client.post(action_url(contest.slug, "join"))


def _leave(client, contest):
    return client.post(action_url(contest.slug, "leave"))


@pytest.mark.parametrize("state", ["scheduled", "running", "frozen"])
def test_a_user_joins_before_or_during_the_contest(user_api, user, state) -> None:
    contest = ContestFactory.create(**{state: True})

    response = _join(user_api, contest)

    assert response.status_code == 201
    assert Participation.objects.filter(contest=contest, user=user).exists()


def test_a_join_shows_in_the_participant_count(user_api, api) -> None:
    contest = ContestFactory.create(scheduled=True)

    _join(user_api, contest)

    assert api.get(detail_url(contest.slug)).json()["participant_count"] == 1


@pytest.mark.parametrize("state", ["ended", "finalized", "cancelled"])
def test_it_refuses_a_join_after_the_contest(user_api, state) -> None:
    contest = ContestFactory.create(**{state: True})

    assert error_code(_join(user_api, contest), 409) == "not_joinable"
    assert not Participation.objects.exists()


def test_a_draft_is_not_joinable_even_for_an_admin(admin_api) -> None:
    contest = ContestFactory.create(draft=True, scheduled=True)

    assert error_code(_join(admin_api, contest), 409) == "not_joinable"


def test_a_user_cannot_join_a_draft_it_cannot_see(user_api) -> None:
    contest = ContestFactory.create(draft=True, scheduled=True)

    assert error_code(_join(user_api, contest), 404) == "not_found"


def test_it_refuses_a_second_join(user_api) -> None:
    contest = ContestFactory.create()
    _join(user_api, contest)

    assert error_code(_join(user_api, contest), 409) == "already_joined"
    assert Participation.objects.count() == 1


def test_it_refuses_a_join_when_the_contest_is_full(user_api) -> None:
    contest = ContestFactory.create(max_participants=2)
    ParticipationFactory.create_batch(2, contest=contest)

    assert error_code(_join(user_api, contest), 409) == "contest_full"
    assert contest.participants.count() == 2


def test_a_full_contest_still_says_already_joined_to_a_member(user) -> None:
    contest = ContestFactory.create(max_participants=1)
    ParticipationFactory.create(contest=contest, user=user)

    response = _join(client_for(user), contest)

    assert error_code(response, 409) == "already_joined"


def test_a_user_leaves_before_the_start(user_api, user) -> None:
    contest = ContestFactory.create(scheduled=True)
    ParticipationFactory.create(contest=contest, user=user)

    response = _leave(user_api, contest)

    assert response.status_code == 204
    assert not Participation.objects.exists()


def test_leaving_makes_room_for_another(user_api, user) -> None:
    contest = ContestFactory.create(scheduled=True, max_participants=1)
    ParticipationFactory.create(contest=contest, user=user)
    other = client_for(UserFactory.create())

    _leave(user_api, contest)

    assert _join(other, contest).status_code == 201


def test_it_refuses_to_leave_a_contest_not_joined(user_api) -> None:
    contest = ContestFactory.create(scheduled=True)
    ParticipationFactory.create(contest=contest)

    assert error_code(_leave(user_api, contest), 409) == "not_joined"
    assert Participation.objects.count() == 1


@pytest.mark.parametrize(
    "state", ["running", "frozen", "ended", "finalized", "cancelled"]
)
def test_it_refuses_to_leave_once_started(user_api, user, state) -> None:
    contest = ContestFactory.create(**{state: True})
    ParticipationFactory.create(contest=contest, user=user)

    assert error_code(_leave(user_api, contest), 409) == "not_leavable"
    assert Participation.objects.count() == 1


# --- concurrency -----------------------------------------------------------


def _race(contest, users) -> Counter[str]:
    """Let every user join at once; count the outcomes by status or code."""
    gate = threading.Barrier(len(users))
    outcomes: Counter[str] = Counter()
    lock = threading.Lock()

    def join(user) -> None:
        client = client_for(user)
        try:
            gate.wait()
            response = _join(client, contest)
            body = response.json() if response.content else {}
            outcome = body["errors"][0]["code"] if body else str(response.status_code)
            with lock:
                outcomes[outcome] += 1
        finally:
            connection.close()

    threads = [threading.Thread(target=join, args=(u,)) for u in users]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_concurrent_joins_admit_exactly_the_capacity() -> None:
    contest = ContestFactory.create(max_participants=5)
    users = UserFactory.create_batch(20)

    outcomes = _race(contest, users)

    assert outcomes == {"201": 5, "contest_full": 15}
    assert contest.participants.count() == 5


@pytest.mark.django_db(transaction=True)
def test_concurrent_joins_of_one_user_admit_it_once() -> None:
    contest = ContestFactory.create()
    user = UserFactory.create()

    outcomes = _race(contest, [user] * 10)

    assert outcomes == {"201": 1, "already_joined": 9}
    assert contest.participants.count() == 1


@pytest.mark.django_db(transaction=True)
def test_a_cap_lowered_during_joins_is_never_exceeded(admin_user) -> None:
    contest = ContestFactory.create(scheduled=True)
    users = UserFactory.create_batch(12)
    patched: list[int] = []

    def lower_the_cap() -> None:
        try:
            response = client_for(admin_user).patch(
                detail_url(contest.slug), {"max_participants": 4}, format="json"
            )
            patched.append(response.status_code)
        finally:
            connection.close()

    capper = threading.Thread(target=lower_the_cap)
    capper.start()
    _race(contest, users)
    capper.join()

    contest.refresh_from_db()
    assert patched in ([200], [400])
    if contest.max_participants is not None:
        assert contest.participants.count() <= contest.max_participants
