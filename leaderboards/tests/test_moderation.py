"""Hiding participants and adjusting scores; who may do it."""

import pytest

from accounts.tests.factories import UserFactory
from leaderboards.models import Entry, Kind, Submission
from leaderboards.tests.conftest import make_contest, submit

pytestmark = pytest.mark.django_db


def _url(contest, user, action: str) -> str:
    return f"/api/v1/contests/{contest.slug}/entries/{user.pk}/{action}/"


def _public(api, contest):
    rows = api.get(f"/api/v1/contests/{contest.slug}/leaderboard/").json()["results"]
    return [(row["user_id"], row["rank"]) for row in rows]


def test_a_hidden_participant_leaves_the_public_board_and_ranks_renumber(
    api, admin_api
) -> None:
    contest = make_contest()
    first, second, third = UserFactory.create_batch(3)
    for user, score in ((first, 30), (second, 20), (third, 10)):
        submit(contest, user, score)

    response = admin_api.post(_url(contest, first, "hide"))

    assert response.status_code == 204
    assert _public(api, contest) == [(second.pk, 1), (third.pk, 2)]
    live = admin_api.get(
        f"/api/v1/contests/{contest.slug}/leaderboard/", {"view": "live"}
    ).json()["results"]
    assert [row["user_id"] for row in live] == [first.pk, second.pk, third.pk]
    assert Entry.objects.get(user=first).score == 30

    admin_api.post(_url(contest, first, "unhide"))

    assert _public(api, contest) == [(first.pk, 1), (second.pk, 2), (third.pk, 3)]


def test_an_adjustment_is_an_audited_submission(api, admin_api, admin_user) -> None:
    contest = make_contest()
    leader, chaser = UserFactory.create_batch(2)
    submit(contest, leader, 30)
    submit(contest, chaser, 20)

    response = admin_api.post(
        _url(contest, leader, "adjust"), {"delta": -15, "reason": "rule 4 penalty"}
    )

    assert response.status_code == 201
    adjustment = Submission.objects.get(kind=Kind.ADJUSTMENT)
    assert (adjustment.score, adjustment.created_by, adjustment.reason) == (
        -15,
        admin_user,
        "rule 4 penalty",
    )
    assert Entry.objects.get(user=leader).score == 15
    assert _public(api, contest) == [(chaser.pk, 1), (leader.pk, 2)]


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"delta": 5},
        {"reason": "x"},
        {"delta": "5", "reason": "x"},
        {"delta": 1.5, "reason": "x"},
        {"delta": 2**60, "reason": "x"},
    ],
)
def test_a_bad_adjustment_is_a_400(admin_api, body) -> None:
    contest = make_contest()
    user = UserFactory()
    submit(contest, user, 1)

    response = admin_api.post(_url(contest, user, "adjust"), body, format="json")

    assert response.status_code == 400
    assert Entry.objects.get(user=user).score == 1


def test_moderating_someone_without_an_entry_is_a_404(admin_api) -> None:
    contest = make_contest()

    response = admin_api.post(_url(contest, UserFactory(), "hide"))

    assert response.status_code == 404


@pytest.mark.parametrize("action", ["hide", "unhide", "adjust"])
def test_users_cannot_moderate(user_api, api, action) -> None:
    contest = make_contest()
    target = UserFactory()
    submit(contest, target, 5)
    body = {"delta": 100, "reason": "me"}

    assert api.post(_url(contest, target, action), body).status_code == 401
    assert user_api.post(_url(contest, target, action), body).status_code == 403
    entry = Entry.objects.get(user=target)
    assert (entry.score, entry.hidden) == (5, False)
