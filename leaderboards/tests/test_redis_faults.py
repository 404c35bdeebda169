"""A Redis that dies after the commit: the write stands, the board heals."""

import pytest

from accounts.tests.factories import UserFactory
from conftest import client_for
from contests.models import Contest
from leaderboards.models import Submission
from leaderboards.tests.conftest import make_contest

pytestmark = pytest.mark.django_db


def test_a_submission_survives_redis_dying_after_the_commit(own_redis, api) -> None:
    contest = make_contest()
    user = UserFactory()
    client = client_for(user)
    assert (
        client.post(
            f"/api/v1/contests/{contest.slug}/submissions/", {"score": 5}
        ).status_code
        == 201
    )

    own_redis.stop()
    from leaderboards import services

    result = services.submission_create(contest=contest, user=user, score=9)

    assert result.rank is None
    assert Submission.objects.filter(user=user).count() == 2
    contest.refresh_from_db()
    assert contest.board_stale_since is not None

    own_redis.start()
    body = api.get(f"/api/v1/contests/{contest.slug}/leaderboard/").json()

    assert body["results"][0]["score"] == 9
    assert Contest.objects.get(pk=contest.pk).board_stale_since is None
