"""Board rows are rendered by hand on the hot path; the schema's serializers
describe them. Both must give the same JSON."""

from typing import Any

import pytest
from django.utils.dateparse import parse_datetime

from accounts.tests.factories import UserFactory
from conftest import client_for
from leaderboards.models import Submission
from leaderboards.serializers import (
    LeaderboardMeSerializer,
    PageSerializer,
    SubmitResponseSerializer,
)
from leaderboards.tests.conftest import make_contest, submit

pytestmark = pytest.mark.django_db


def _typed(row: dict[str, Any]) -> dict[str, Any]:
    """The row with its time as a datetime, as the serializer would get it."""
    moment = row["reached_at"]
    return {**row, "reached_at": parse_datetime(moment) if moment else None}


def test_a_page_renders_as_its_serializer_would(api) -> None:
    contest = make_contest(ties="shared")
    for n, user in enumerate(UserFactory.create_batch(5)):
        submit(contest, user, n % 3)

    body = api.get(f"/api/v1/contests/{contest.slug}/leaderboard/").json()

    assert len(body["results"]) == 5
    typed = {**body, "results": [_typed(row) for row in body["results"]]}
    assert body == PageSerializer(typed).data


def test_me_renders_as_its_serializer_would() -> None:
    contest = make_contest()
    users = UserFactory.create_batch(4)
    for n, user in enumerate(users):
        submit(contest, user, n)

    url = f"/api/v1/contests/{contest.slug}/leaderboard/me/"
    body = client_for(users[1]).get(url, {"neighbours": 2}).json()
    empty = client_for(UserFactory()).get(url).json()

    assert body["reached_at"].endswith("Z")
    typed = {**_typed(body), "neighbours": [_typed(r) for r in body["neighbours"]]}
    assert len(body["neighbours"]) == 4
    assert body == LeaderboardMeSerializer(typed).data
    assert empty["reached_at"] is None
    assert empty == LeaderboardMeSerializer(_typed(empty)).data


def test_a_submission_renders_as_its_serializer_would() -> None:
    contest = make_contest()
    user = UserFactory()
    client = client_for(user)
    url = f"/api/v1/contests/{contest.slug}/submissions/"

    first = client.post(url, {"score": 7}, format="json", HTTP_IDEMPOTENCY_KEY="k1")
    again = client.post(url, {"score": 7}, format="json", HTTP_IDEMPOTENCY_KEY="k1")

    submission = Submission.objects.get()
    expected = SubmitResponseSerializer(
        {
            "submission": submission,
            "score": submission.entry_score,
            "rank": 1,
            "new_best": True,
        }
    ).data
    assert first.status_code == again.status_code == 201
    assert first.json() == expected
    assert again.json() == expected


def test_repeated_reads_of_a_changing_board_stay_exact(api) -> None:
    # The rows decoded from a reply are kept per process and reused for an
    # identical reply; every change must still show at once.
    contest = make_contest()
    users = UserFactory.create_batch(3)
    for n, user in enumerate(users):
        submit(contest, user, 10 * (n + 1))
    url = f"/api/v1/contests/{contest.slug}/leaderboard/"
    before = api.get(url).json()["results"]
    assert api.get(url).json()["results"] == before

    submit(contest, users[0], 100)
    after = api.get(url).json()["results"]

    assert [row["user_id"] for row in before] == [u.pk for u in reversed(users)]
    assert [(row["user_id"], row["score"], row["rank"]) for row in after] == [
        (users[0].pk, 100, 1),
        (users[2].pk, 30, 2),
        (users[1].pk, 20, 3),
    ]
