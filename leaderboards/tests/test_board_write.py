"""Rebuilding a board from PostgreSQL gives what the submissions built."""

import pytest

from accounts.models import User
from accounts.tests.factories import UserFactory
from leaderboards import board, services
from leaderboards.models import Entry
from leaderboards.tests.conftest import make_contest, submit

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("order", ["desc", "asc"])
def test_a_rebuild_reproduces_the_live_board_exactly(order) -> None:
    contest = make_contest(order=order)
    users = UserFactory.create_batch(7)
    for n, user in enumerate(users):
        submit(contest, user, (n * 37) % 5 - 2)
    Entry.objects.filter(user=users[3]).update(hidden=True, version=40)
    services.entry_set_hidden(
        contest=contest, user_id=users[3].pk, hidden=True, actor=users[0]
    )
    before = board.board_snapshot(contest)
    page_before = board.page(contest, offset=0, limit=10)

    assert services.board_rebuild(contest=contest)

    assert board.board_snapshot(contest) == before
    assert board.page(contest, offset=0, limit=10) == page_before
    assert len(page_before.rows) == 6


def test_a_rebuild_keeps_names_that_copy_escapes() -> None:
    contest = make_contest()
    user = UserFactory()
    submit(contest, user, 1)
    # Written around the model's validation, as an import might.
    User.objects.filter(pk=user.pk).update(display_name="tab\there\\slash")

    services.board_rebuild(contest=contest)

    [row] = board.page(contest, offset=0, limit=1).rows
    assert row.display_name == "tab\there\\slash"
