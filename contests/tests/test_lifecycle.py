"""The admin actions that steer a contest through its lifecycle."""

import pytest
from django.utils import timezone

from contests.models import Contest, State

from .factories import HOUR, ContestFactory, from_now
from .helpers import action_url, error_code

pytestmark = pytest.mark.django_db

# Each action, the states it is allowed from, and the state it leads to.
TRANSITIONS: dict[str, tuple[set[State], State]] = {
    "publish": ({State.DRAFT}, State.SCHEDULED),
    "start": ({State.SCHEDULED}, State.RUNNING),
    "freeze": ({State.RUNNING}, State.FROZEN),
    "end": ({State.RUNNING, State.FROZEN}, State.ENDED),
    "finalize": ({State.ENDED, State.FINALIZED}, State.FINALIZED),
    "cancel": (
        {State.DRAFT, State.SCHEDULED, State.RUNNING, State.FROZEN},
        State.CANCELLED,
    ),
}


def _draft_fields(state: State) -> dict[str, object]:
    # A draft to publish needs times ahead of it, or publish refuses it.
    if state == State.DRAFT:
        return {"draft": True, "scheduled": True}
    return {state.value: True}


ALLOWED = [(a, s) for a, (froms, _) in TRANSITIONS.items() for s in froms]
REFUSED = [
    (a, s) for a, (froms, _) in TRANSITIONS.items() for s in State if s not in froms
]


@pytest.mark.parametrize(("action", "state"), ALLOWED)
def test_an_allowed_action_leads_to_its_state(admin_api, action, state) -> None:
    contest = ContestFactory.create(**_draft_fields(state))

    response = admin_api.post(action_url(contest.slug, action))

    assert response.status_code == 200, response.json()
    expected = TRANSITIONS[action][1]
    assert response.json()["state"] == expected
    assert response.json()["slug"] == contest.slug
    contest.refresh_from_db()
    assert contest.state == expected


@pytest.mark.parametrize(("action", "state"), REFUSED)
def test_an_action_from_a_wrong_state_is_a_conflict(admin_api, action, state):
    contest = ContestFactory.create(**_draft_fields(state))
    before = Contest.objects.values().get(pk=contest.pk)

    response = admin_api.post(action_url(contest.slug, action))

    assert error_code(response, 409) == "invalid_transition"
    assert state in response.json()["errors"][0]["detail"]
    assert Contest.objects.values().get(pk=contest.pk) == before


def test_publish_stamps_the_time_and_keeps_the_plan(admin_api) -> None:
    contest = ContestFactory.create(draft=True, scheduled=True)
    before = timezone.now()

    admin_api.post(action_url(contest.slug, "publish"))

    contest.refresh_from_db()
    assert contest.published_at is not None
    assert contest.published_at >= before
    assert contest.starts_at > timezone.now()


def test_publishing_a_draft_past_its_start_makes_it_run(admin_api) -> None:
    contest = ContestFactory.create(draft=True)

    response = admin_api.post(action_url(contest.slug, "publish"))

    assert response.json()["state"] == "running"


def test_it_refuses_to_publish_a_draft_whose_end_has_passed(admin_api) -> None:
    contest = ContestFactory.create(draft=True, ended=True)

    response = admin_api.post(action_url(contest.slug, "publish"))

    assert error_code(response, 409) == "ends_in_past"
    contest.refresh_from_db()
    assert contest.published_at is None


def test_start_moves_the_start_to_now_and_keeps_the_end(admin_api) -> None:
    contest = ContestFactory.create(scheduled=True)
    end = contest.ends_at

    admin_api.post(action_url(contest.slug, "start"))

    contest.refresh_from_db()
    assert contest.starts_at <= timezone.now()
    assert contest.ends_at == end


def test_start_keeps_a_planned_freeze(admin_api) -> None:
    contest = ContestFactory.create(scheduled=True, freeze_at=from_now(2 * HOUR))
    freeze = contest.freeze_at

    response = admin_api.post(action_url(contest.slug, "start"))

    assert response.json()["state"] == "running"
    contest.refresh_from_db()
    assert contest.freeze_at == freeze


def test_freeze_moves_a_planned_freeze_to_now(admin_api) -> None:
    contest = ContestFactory.create(freeze_at=from_now(HOUR / 2))

    response = admin_api.post(action_url(contest.slug, "freeze"))

    assert response.json()["state"] == "frozen"
    contest.refresh_from_db()
    assert contest.freeze_at is not None
    assert contest.freeze_at <= timezone.now()


def test_end_before_a_planned_freeze_ends_without_freezing(admin_api) -> None:
    contest = ContestFactory.create(freeze_at=from_now(HOUR / 2))

    response = admin_api.post(action_url(contest.slug, "end"))

    assert response.status_code == 200, response.json()
    assert response.json()["state"] == "ended"
    contest.refresh_from_db()
    assert contest.ends_at <= timezone.now()
    assert contest.freeze_at is None


def test_end_of_a_frozen_contest_keeps_its_freeze(admin_api) -> None:
    contest = ContestFactory.create(frozen=True)
    freeze = contest.freeze_at

    admin_api.post(action_url(contest.slug, "end"))

    contest.refresh_from_db()
    assert contest.freeze_at == freeze


def test_finalizing_twice_changes_nothing_the_second_time(admin_api) -> None:
    contest = ContestFactory.create(ended=True)
    first = admin_api.post(action_url(contest.slug, "finalize"))

    second = admin_api.post(action_url(contest.slug, "finalize"))

    assert second.status_code == 200
    assert second.json()["finalized_at"] == first.json()["finalized_at"]


def test_cancel_stamps_the_time(admin_api) -> None:
    contest = ContestFactory.create()

    response = admin_api.post(action_url(contest.slug, "cancel"))

    assert response.json()["cancelled_at"] is not None


def test_an_action_on_an_unknown_contest_is_a_404(admin_api) -> None:
    for action in TRANSITIONS:
        response = admin_api.post(action_url("nowhere", action))
        assert error_code(response, 404) == "not_found"


@pytest.mark.parametrize("action", list(TRANSITIONS))
def test_an_action_only_answers_post(admin_api, action) -> None:
    contest = ContestFactory.create()

    response = admin_api.get(action_url(contest.slug, action))

    assert error_code(response, 405) == "method_not_allowed"
