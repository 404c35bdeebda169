"""Submissions to open contests skip the participation query once known."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import UserFactory
from contests.models import Participation
from leaderboards.tests.conftest import make_contest, submit

pytestmark = pytest.mark.django_db


def _participation_queries(context: CaptureQueriesContext) -> int:
    return sum("contests_participation" in q["sql"] for q in context.captured_queries)


def test_a_known_participant_of_an_open_contest_costs_no_participation_query():
    contest = make_contest()
    user = UserFactory()
    submit(contest, user, 1)
    assert Participation.objects.filter(contest=contest, user=user).exists()

    with CaptureQueriesContext(connection) as queries:
        submit(contest, user, 2)

    assert _participation_queries(queries) == 0


def test_a_capped_contest_still_checks_every_submission():
    contest = make_contest(max_participants=5)
    user = UserFactory()
    submit(contest, user, 1)

    with CaptureQueriesContext(connection) as queries:
        submit(contest, user, 2)

    assert _participation_queries(queries) >= 1
