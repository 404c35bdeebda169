"""Every scoring x order x ties combination, against real Redis and SQL."""

import pytest

from leaderboards import board, selectors, services
from leaderboards.models import Entry
from leaderboards.tests.conftest import make_contest, submit

pytestmark = pytest.mark.django_db

PUBLIC = selectors.Viewer(user_id=None, is_admin=False)

# Each case: submissions in time order as (player index, score), then the
# expected board as (player index, score, rank), best first.
CASES = [
    # best, higher wins: a worse later score changes nothing.
    (
        "best",
        "desc",
        "earliest",
        [(0, 10), (1, 30), (2, 20), (0, 5)],
        [(1, 30, 1), (2, 20, 2), (0, 10, 3)],
    ),
    # best, equal scores: who reached it first ranks first.
    (
        "best",
        "desc",
        "earliest",
        [(0, 10), (1, 10), (2, 10), (3, 5)],
        [(0, 10, 1), (1, 10, 2), (2, 10, 3), (3, 5, 4)],
    ),
    # shared ties: 1, 2, 2, 4.
    (
        "best",
        "desc",
        "shared",
        [(0, 50), (1, 20), (2, 20), (3, 10)],
        [(0, 50, 1), (1, 20, 2), (2, 20, 2), (3, 10, 4)],
    ),
    # best, lower wins (a time): a later faster time improves.
    (
        "best",
        "asc",
        "earliest",
        [(0, 90), (1, 60), (0, 40), (2, 60)],
        [(0, 40, 1), (1, 60, 2), (2, 60, 3)],
    ),
    (
        "best",
        "asc",
        "shared",
        [(0, 5), (1, 5), (2, 7), (3, 5)],
        [(0, 5, 1), (1, 5, 1), (3, 5, 1), (2, 7, 4)],
    ),
    # A later equal score keeps the earlier time: player 0 stays ahead.
    ("best", "desc", "earliest", [(0, 10), (1, 10), (0, 10)], [(0, 10, 1), (1, 10, 2)]),
    # latest: the last score counts, even when worse.
    (
        "latest",
        "desc",
        "earliest",
        [(0, 50), (1, 30), (0, 10)],
        [(1, 30, 1), (0, 10, 2)],
    ),
    (
        "latest",
        "asc",
        "shared",
        [(0, 50), (1, 30), (0, 30), (2, 40)],
        [(1, 30, 1), (0, 30, 1), (2, 40, 3)],
    ),
    # sum: every submission adds, negatives too.
    (
        "sum",
        "desc",
        "earliest",
        [(0, 10), (1, 15), (0, 10), (1, -5), (2, 10)],
        [(0, 20, 1), (1, 10, 2), (2, 10, 3)],
    ),
    (
        "sum",
        "asc",
        "shared",
        [(0, 3), (1, 1), (1, 2), (2, 9)],
        [(0, 3, 1), (1, 3, 1), (2, 9, 3)],
    ),
    # Negative scores rank correctly when higher wins.
    (
        "best",
        "desc",
        "earliest",
        [(0, -5), (1, -1), (2, 0)],
        [(2, 0, 1), (1, -1, 2), (0, -5, 3)],
    ),
]


def _expected(players, expected):
    return [(players[i].pk, score, rank) for i, score, rank in expected]


def _redis_board(contest):
    page = selectors.leaderboard_page(
        contest=contest, viewer=PUBLIC, offset=0, limit=200
    )
    return [(row.user_id, row.score, row.rank) for row in page.rows]


def _sql_board(contest):
    page = selectors._entries_page(contest, False, 0, 200)
    return [(row.user_id, row.score, row.rank) for row in page.rows]


def _standings(contest):
    page = selectors.leaderboard_page(
        contest=contest, viewer=PUBLIC, offset=0, limit=200
    )
    return [(row.user_id, row.score, row.rank) for row in page.rows]


@pytest.mark.parametrize(("scoring", "order", "ties", "steps", "expected"), CASES)
def test_redis_postgres_and_standings_agree_on_every_rank(
    players, scoring, order, ties, steps, expected
) -> None:
    contest = make_contest(scoring=scoring, order=order, ties=ties)
    for index, score in steps:
        submit(contest, players[index], score)

    want = _expected(players, expected)
    assert _redis_board(contest) == want
    assert _sql_board(contest) == want

    contest.ends_at = contest.starts_at + (contest.ends_at - contest.starts_at) / 100
    contest.save()
    contest.refresh_from_db()
    services.contest_finalize(contest=contest)
    contest.refresh_from_db()
    assert _standings(contest) == want


@pytest.mark.parametrize(("scoring", "order", "ties", "steps", "expected"), CASES)
def test_a_rebuilt_board_equals_the_live_one(
    players, scoring, order, ties, steps, expected
) -> None:
    contest = make_contest(scoring=scoring, order=order, ties=ties)
    for index, score in steps:
        submit(contest, players[index], score)
    before = _redis_board(contest)

    board.client().flushdb()
    after = _redis_board(contest)

    assert after == before == _expected(players, expected)


def test_each_rank_read_agrees_with_the_page(players) -> None:
    contest = make_contest(ties="shared")
    for index, score in [(0, 5), (1, 9), (2, 5), (3, 1), (4, 9)]:
        submit(contest, players[index], score)
    page = {
        row.user_id: row.rank for row in board.page(contest, offset=0, limit=50).rows
    }

    some = board.users(contest, user_ids=[p.pk for p in players[:5]])
    mine = board.around(contest, user_id=players[2].pk, neighbours=1)

    assert {row.user_id: row.rank for row in some.rows} == page
    assert mine.rank == page[players[2].pk] == 3
    # Equal scores sit in the order they were reached: 1 before 4, 0 before 2.
    assert [row.user_id for row in mine.rows] == [
        players[0].pk,
        players[2].pk,
        players[3].pk,
    ]
    assert [row.rank for row in mine.rows] == [3, 3, 5]


def test_scores_at_the_exact_limit_stay_exact(players) -> None:
    top = 2**53 - 1
    contest = make_contest(score_min=-top, score_max=top)

    submit(contest, players[0], top)
    submit(contest, players[1], top - 1)
    submit(contest, players[2], -top)

    rows = _redis_board(contest)
    assert rows == [
        (players[0].pk, top, 1),
        (players[1].pk, top - 1, 2),
        (players[2].pk, -top, 3),
    ]


def test_a_stale_version_changes_nothing(players) -> None:
    contest = make_contest()
    submit(contest, players[0], 10)
    submit(contest, players[0], 20)
    entry = Entry.objects.get(contest=contest, user=players[0])
    old = board.BoardEntry(
        players[0].pk, 999, entry.reached_at, entry.version - 1, False, "x"
    )
    repeated = board.BoardEntry(
        players[0].pk, 555, entry.reached_at, entry.version, False, "y"
    )

    stale = board.apply(contest, old)
    same = board.apply(contest, repeated)

    assert stale.status == same.status == 0
    assert _redis_board(contest) == [(players[0].pk, 20, 1)]


def test_board_keys_share_a_hash_tag_and_expire_after_the_retention(players) -> None:
    contest = make_contest()
    submit(contest, players[0], 10)
    keys = board.Keys.of(contest.pk)
    redis = board.client()

    for key in (keys.all, keys.pub, keys.meta, keys.names):
        assert f"{{contest:{contest.pk}}}" in key
        expires = redis.expiretime(key)
        assert expires == int(contest.board_expires_at.timestamp())


@pytest.mark.django_db(transaction=True)
def test_a_repeat_submission_costs_one_round_trip(players, django_assert_num_queries):
    contest = make_contest()
    submit(contest, players[0], 1)
    contest.refresh_from_db()

    # The advisory lock and the one submit statement, sent together and
    # committed as one transaction (the participation is known from the
    # first submission).
    with django_assert_num_queries(1) as captured:
        services.submission_create(contest=contest, user=players[0], score=2)

    assert captured.captured_queries[0]["sql"].startswith(
        "SELECT pg_advisory_xact_lock_shared("
    )
    entry = Entry.objects.get(contest=contest, user=players[0])
    assert (entry.score, entry.submission_count) == (2, 2)
