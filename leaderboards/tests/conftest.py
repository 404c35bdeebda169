"""Helpers for the leaderboard tests: running contests, submitting."""

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from accounts.models import User
from accounts.tests.factories import UserFactory
from contests.models import Contest
from leaderboards import services


def make_contest(**fields: Any) -> Contest:
    """A published contest, running unless the times say otherwise."""
    now = timezone.now()
    values: dict[str, Any] = {
        "slug": f"c{Contest.objects.count() + 1}-{now.microsecond}",
        "title": "Test contest",
        "starts_at": now - timedelta(hours=1),
        "ends_at": now + timedelta(hours=1),
        "published_at": now - timedelta(hours=2),
        "score_min": -1_000_000,
        "score_max": 1_000_000,
    }
    values.update(fields)
    return Contest.objects.create(**values)


def submit(contest: Contest, user: User, score: int, **kwargs: Any) -> Any:
    contest.refresh_from_db()
    return services.submission_create(contest=contest, user=user, score=score, **kwargs)


@pytest.fixture
def contest(db: Any) -> Contest:
    return make_contest()


@pytest.fixture
def players(db: Any) -> list[User]:
    return UserFactory.create_batch(6)


@pytest.fixture(autouse=True)
def _generous_limits(settings: Any) -> None:
    """Keep the throttles on, at rates these tests cannot reach."""
    settings.RATELIMIT_RATES = {
        **settings.RATELIMIT_RATES,
        "submission": "100000/1s",
        "read": "100000/1s",
        "admin_write": "100000/1s",
    }
