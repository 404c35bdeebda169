"""Submitting through the API: answers, retries and every refusal."""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from conftest import client_for
from contests.models import Participation
from leaderboards.models import Entry, Submission
from leaderboards.tests.conftest import make_contest

pytestmark = pytest.mark.django_db


def _url(contest) -> str:
    return f"/api/v1/contests/{contest.slug}/submissions/"


def _code(response) -> str:
    return response.json()["errors"][0]["code"]


def test_it_answers_the_submission_score_rank_and_new_best(user_api, user) -> None:
    contest = make_contest()
    other = client_for(UserFactory())
    other.post(_url(contest), {"score": 50})

    first = user_api.post(_url(contest), {"score": 40})
    better = user_api.post(_url(contest), {"score": 60})
    worse = user_api.post(_url(contest), {"score": 10})

    assert first.status_code == better.status_code == worse.status_code == 201
    assert first.json()["rank"] == 2
    assert first.json()["new_best"] is True
    assert better.json()["rank"] == 1
    assert better.json()["submission"]["outcome"] == "new_best"
    assert worse.json() | {"submission": None} == {
        "submission": None,
        "score": 60,
        "rank": 1,
        "new_best": False,
    }
    assert worse.json()["submission"]["outcome"] == "no_improvement"
    assert Submission.objects.filter(user=user).count() == 3


def test_a_first_submission_joins_a_contest_without_join_required(user_api, user):
    contest = make_contest(join_required=False)

    user_api.post(_url(contest), {"score": 1})

    assert Participation.objects.filter(contest=contest, user=user).exists()


def test_a_retry_with_the_same_key_returns_the_first_answer(user_api, user) -> None:
    contest = make_contest(scoring="sum")

    first = user_api.post(_url(contest), {"score": 5}, HTTP_IDEMPOTENCY_KEY="try-1")
    client_for(UserFactory()).post(_url(contest), {"score": 100})
    retry = user_api.post(_url(contest), {"score": 5}, HTTP_IDEMPOTENCY_KEY="try-1")

    assert retry.status_code == 201
    assert retry.json() == first.json()
    assert retry["Idempotent-Replayed"] == "true"
    assert Entry.objects.get(contest=contest, user=user).score == 5
    assert Submission.objects.filter(user=user).count() == 1


def test_a_key_reused_for_another_score_is_a_409(user_api) -> None:
    contest = make_contest()
    user_api.post(_url(contest), {"score": 5}, HTTP_IDEMPOTENCY_KEY="k")

    response = user_api.post(_url(contest), {"score": 6}, HTTP_IDEMPOTENCY_KEY="k")

    assert response.status_code == 409
    assert _code(response) == "idempotency_key_reused"


def test_the_same_key_from_two_users_is_two_submissions(user_api) -> None:
    contest = make_contest()
    other = client_for(UserFactory())

    user_api.post(_url(contest), {"score": 5}, HTTP_IDEMPOTENCY_KEY="k")
    other.post(_url(contest), {"score": 5}, HTTP_IDEMPOTENCY_KEY="k")

    assert Submission.objects.filter(contest=contest).count() == 2


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"score": 1.5},
        {"score": 2.0},
        {"score": "5"},
        {"score": True},
        {"score": None},
        {"score": [5]},
        {"score": 2**63},
        {"score": -(2**63) - 1},
        {"scores": 5},
    ],
)
def test_a_score_that_is_not_a_64_bit_integer_is_a_400(user_api, body) -> None:
    contest = make_contest()

    response = user_api.post(_url(contest), body, format="json")

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "score"
    assert not Submission.objects.exists()


@pytest.mark.parametrize("raw", [b'{"score": NaN}', b'{"score": Infinity}', b"{"])
def test_nan_infinity_and_broken_json_are_a_400(user_api, raw) -> None:
    contest = make_contest()

    response = user_api.post(_url(contest), raw, content_type="application/json")

    assert response.status_code == 400
    assert not Submission.objects.exists()


@pytest.mark.parametrize("score", [-1_000_001, 1_000_001, 2**62])
def test_a_score_outside_the_bounds_is_a_400(user_api, score) -> None:
    contest = make_contest()

    response = user_api.post(_url(contest), {"score": score})

    assert response.status_code == 400
    assert _code(response) == "out_of_bounds"
    assert not Entry.objects.exists()


@pytest.mark.parametrize("key", ["", "x" * 129, "has space", "é"])
def test_a_malformed_idempotency_key_is_a_400(user_api, key) -> None:
    contest = make_contest()

    response = user_api.post(_url(contest), {"score": 1}, HTTP_IDEMPOTENCY_KEY=key)

    assert response.status_code == 400
    assert not Submission.objects.exists()


def test_an_unknown_contest_is_a_404(user_api) -> None:
    response = user_api.post("/api/v1/contests/nope/submissions/", {"score": 1})

    assert response.status_code == 404
    assert _code(response) == "contest_not_found"


def test_a_draft_contest_is_a_404_for_users(user_api) -> None:
    contest = make_contest(published_at=None)

    assert user_api.post(_url(contest), {"score": 1}).status_code == 404


@pytest.mark.parametrize(
    ("fields", "state"),
    [
        (
            {
                "starts_at": timezone.now() + timedelta(hours=1),
                "ends_at": timezone.now() + timedelta(hours=2),
            },
            "scheduled",
        ),
        (
            {
                "starts_at": timezone.now() - timedelta(hours=2),
                "ends_at": timezone.now() - timedelta(hours=1),
            },
            "ended",
        ),
        ({"cancelled_at": timezone.now()}, "cancelled"),
    ],
)
def test_a_contest_not_running_is_a_409_naming_its_state(user_api, fields, state):
    contest = make_contest(**fields)

    response = user_api.post(_url(contest), {"score": 1})

    assert response.status_code == 409
    assert _code(response) == "contest_not_running"
    assert state in response.json()["errors"][0]["detail"]


def test_a_frozen_contest_still_accepts_submissions(user_api) -> None:
    contest = make_contest(freeze_at=timezone.now() - timedelta(minutes=1))

    assert user_api.post(_url(contest), {"score": 1}).status_code == 201


def test_not_joining_a_contest_that_requires_it_is_a_403(user_api, user) -> None:
    contest = make_contest(join_required=True)

    refused = user_api.post(_url(contest), {"score": 1})
    Participation.objects.create(contest=contest, user=user)
    accepted = user_api.post(_url(contest), {"score": 1})

    assert refused.status_code == 403
    assert _code(refused) == "not_joined"
    assert accepted.status_code == 201


def test_attempts_run_out_at_the_cap(user_api) -> None:
    contest = make_contest(max_submissions_per_user=2)

    statuses = [
        user_api.post(_url(contest), {"score": n}).status_code for n in range(3)
    ]
    refused = user_api.post(_url(contest), {"score": 9})

    assert statuses == [201, 201, 409]
    assert _code(refused) == "attempts_exhausted"
    assert Submission.objects.count() == 2


def test_a_full_contest_refuses_a_new_participant(user_api) -> None:
    contest = make_contest(max_participants=1)
    client_for(UserFactory()).post(_url(contest), {"score": 1})

    response = user_api.post(_url(contest), {"score": 1})

    assert response.status_code == 409
    assert _code(response) == "contest_full"


def test_a_sum_beyond_the_exact_range_is_a_409(user_api) -> None:
    top = 2**53 - 1
    contest = make_contest(scoring="sum", score_min=-top, score_max=top)
    user_api.post(_url(contest), {"score": top})

    response = user_api.post(_url(contest), {"score": 1})

    assert response.status_code == 409
    assert _code(response) == "total_out_of_range"
    assert Submission.objects.count() == 1


def test_anonymous_submissions_are_a_401(api: APIClient) -> None:
    contest = make_contest()

    assert api.post(_url(contest), {"score": 1}).status_code == 401


def test_users_list_only_their_own_submissions_and_admins_all(
    user_api, user, admin_api
) -> None:
    contest = make_contest()
    other = UserFactory()
    client_for(other).post(_url(contest), {"score": 7})
    user_api.post(_url(contest), {"score": 3})

    mine = user_api.get(_url(contest)).json()["results"]
    everyone = admin_api.get(_url(contest)).json()["results"]
    filtered = admin_api.get(_url(contest), {"user": other.pk}).json()["results"]

    assert [s["user_id"] for s in mine] == [user.pk]
    assert {s["user_id"] for s in everyone} == {user.pk, other.pk}
    assert [s["user_id"] for s in filtered] == [other.pk]


def test_a_user_cannot_read_another_users_submissions(user_api) -> None:
    contest = make_contest()
    other = UserFactory()
    client_for(other).post(_url(contest), {"score": 7})

    response = user_api.get(_url(contest), {"user": other.pk})

    assert response.status_code == 200
    assert response.json()["results"] == []


def test_submissions_cannot_be_changed_or_deleted(user_api) -> None:
    contest = make_contest()
    user_api.post(_url(contest), {"score": 7})

    assert user_api.put(_url(contest), {"score": 1}).status_code == 405
    assert user_api.delete(_url(contest)).status_code == 405
    assert Submission.objects.get().score == 7


def test_submissions_past_the_rate_are_a_429_and_write_nothing(
    user_api, settings
) -> None:
    settings.RATELIMIT_RATES = {**settings.RATELIMIT_RATES, "submission": "10/10s"}
    contest = make_contest(scoring="sum")

    answers = [user_api.post(_url(contest), {"score": 1}) for _ in range(11)]

    assert [a.status_code for a in answers] == [201] * 10 + [429]
    refused = answers[-1]
    assert _code(refused) == "throttled"
    assert int(refused["Retry-After"]) >= 1
    assert "submission" in refused["RateLimit-Policy"]
    assert "r=9" in answers[0]["RateLimit"]
    assert Submission.objects.count() == 10
    assert Entry.objects.get().score == 10
