"""Reading boards: pages, around-me, sets of users, freeze, finalize, repair."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from accounts.tests.factories import UserFactory
from contests.models import Contest
from leaderboards import board, services
from leaderboards.models import Entry, Standing
from leaderboards.tests.conftest import make_contest, submit

pytestmark = pytest.mark.django_db


def _board_url(contest, suffix: str = "") -> str:
    return f"/api/v1/contests/{contest.slug}/leaderboard/{suffix}"


def _end(contest: Contest) -> None:
    contest.ends_at = timezone.now() - timedelta(seconds=1)
    if contest.freeze_at and contest.freeze_at > contest.ends_at:
        contest.freeze_at = contest.ends_at
    contest.save()


def test_pages_never_repeat_or_skip_an_entry(api) -> None:
    contest = make_contest(ties="shared")
    users = UserFactory.create_batch(23)
    for n, user in enumerate(users):
        submit(contest, user, n % 5)

    seen: list[int] = []
    offset: int | None = 0
    while offset is not None:
        body = api.get(_board_url(contest), {"offset": offset, "limit": 4}).json()
        seen += [row["user_id"] for row in body["results"]]
        offset = body["next_offset"]
        assert body["count"] == 23

    assert len(seen) == len(set(seen)) == 23
    full = api.get(_board_url(contest), {"limit": 200}).json()["results"]
    assert seen == [row["user_id"] for row in full]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"offset": -1}, "offset"),
        ({"offset": "x"}, "offset"),
        ({"limit": 0}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"users": "1,x"}, "users"),
        ({"users": ",".join(str(n) for n in range(1, 102))}, "users"),
        ({"users": "-4"}, "users"),
        ({"view": "secret"}, "view"),
    ],
)
def test_bad_query_parameters_are_a_400(api, params, field) -> None:
    contest = make_contest()

    response = api.get(_board_url(contest), params)

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == field


def test_limit_is_clamped_to_200(api) -> None:
    contest = make_contest()

    body = api.get(_board_url(contest), {"limit": 10_000}).json()

    assert body["limit"] == 200


def test_a_row_has_rank_user_name_score_and_time_without_a_query_per_row(
    api, django_assert_max_num_queries
) -> None:
    contest = make_contest()
    users = UserFactory.create_batch(30)
    for n, user in enumerate(users):
        submit(contest, user, n)

    with django_assert_max_num_queries(1):
        body = api.get(_board_url(contest), {"limit": 30}).json()

    top = body["results"][0]
    assert set(top) == {"rank", "user_id", "display_name", "score", "reached_at"}
    assert top["user_id"] == users[-1].pk
    assert top["display_name"] == users[-1].display_name


def test_me_shows_own_rank_with_neighbours(user, user_api) -> None:
    contest = make_contest()
    others = UserFactory.create_batch(6)
    for n, other in enumerate(others):
        submit(contest, other, n * 10)
    submit(contest, user, 25)

    body = user_api.get(_board_url(contest, "me/"), {"neighbours": 2}).json()

    assert body["rank"] == 4
    assert body["score"] == 25
    assert [row["rank"] for row in body["neighbours"]] == [2, 3, 4, 5, 6]


def test_me_without_an_entry_has_no_rank(user_api) -> None:
    contest = make_contest()

    body = user_api.get(_board_url(contest, "me/")).json()

    assert body["rank"] is None
    assert body["neighbours"] == []


def test_one_user_and_a_set_of_users_come_with_their_ranks(api) -> None:
    contest = make_contest()
    users = UserFactory.create_batch(5)
    for n, user in enumerate(users):
        submit(contest, user, n)

    one = api.get(_board_url(contest, f"users/{users[1].pk}/")).json()
    some = api.get(
        _board_url(contest), {"users": f"{users[0].pk},{users[4].pk},999999"}
    )
    missing = api.get(_board_url(contest, "users/999999/"))

    assert one["results"][0]["rank"] == 4
    assert [(r["user_id"], r["rank"]) for r in some.json()["results"]] == [
        (users[0].pk, 5),
        (users[4].pk, 1),
    ]
    assert missing.status_code == 404


def test_the_freeze_holds_for_the_public_not_for_admins_or_oneself(
    user, user_api, admin_api, api
) -> None:
    contest = make_contest()
    rival = UserFactory()
    submit(contest, rival, 50)
    submit(contest, user, 10)
    contest.freeze_at = timezone.now()
    contest.save()
    submit(contest, user, 90)

    public = api.get(_board_url(contest)).json()
    live = admin_api.get(_board_url(contest), {"view": "live"}).json()
    mine = user_api.get(_board_url(contest, "me/")).json()
    refused = user_api.get(_board_url(contest), {"view": "live"})

    assert public["frozen"] is True
    assert [(r["user_id"], r["score"]) for r in public["results"]] == [
        (rival.pk, 50),
        (user.pk, 10),
    ]
    assert [(r["user_id"], r["score"]) for r in live["results"]] == [
        (user.pk, 90),
        (rival.pk, 50),
    ]
    assert (mine["rank"], mine["score"], mine["frozen"]) == (1, 90, True)
    assert mine["neighbours"] == []
    assert refused.status_code == 403


def test_finalize_lifts_the_freeze_and_reads_come_from_standings(
    user, admin_api, api
) -> None:
    contest = make_contest()
    submit(contest, user, 10)
    contest.freeze_at = timezone.now()
    contest.save()
    submit(contest, user, 90)
    _end(contest)

    finalized = admin_api.post(f"/api/v1/contests/{contest.slug}/finalize/")
    board.drop(contest)
    body = api.get(_board_url(contest)).json()

    assert finalized.status_code == 200
    assert body["frozen"] is False
    assert [(r["user_id"], r["score"], r["rank"]) for r in body["results"]] == [
        (user.pk, 90, 1)
    ]
    assert Standing.objects.get(contest=contest).score == 90


def test_after_the_retention_an_ended_board_is_read_from_the_entries(api) -> None:
    contest = make_contest()
    users = UserFactory.create_batch(3)
    for n, user in enumerate(users):
        submit(contest, user, n)
    contest.starts_at = timezone.now() - timedelta(days=30)
    contest.ends_at = timezone.now() - timedelta(days=20)
    contest.retention = timedelta(days=1)
    contest.save()
    board.drop(contest)

    body = api.get(_board_url(contest)).json()

    assert [r["user_id"] for r in body["results"]] == [u.pk for u in reversed(users)]
    assert not board.is_built(contest)


def test_after_a_flushall_the_next_read_shows_the_postgres_order(api) -> None:
    contest = make_contest(ties="earliest")
    users = UserFactory.create_batch(8)
    for n, user in enumerate(users):
        submit(contest, user, n % 3)
    before = api.get(_board_url(contest)).json()["results"]

    board.client().flushdb()  # FLUSHALL, for this database
    after = api.get(_board_url(contest)).json()["results"]

    assert after == before
    call_command("rebuild_leaderboards", contest.slug, "--verify")


def test_verify_reports_every_difference(capsys) -> None:
    contest = make_contest()
    users = UserFactory.create_batch(3)
    for user in users:
        submit(contest, user, 5)
    Entry.objects.filter(user=users[0]).update(score=6)

    with pytest.raises(Exception, match="1 difference"):
        call_command("rebuild_leaderboards", contest.slug, "--verify")
    call_command("rebuild_leaderboards", contest.slug)
    call_command("rebuild_leaderboards", contest.slug, "--verify")

    assert f"user {users[0].pk}" in capsys.readouterr().out


def test_a_stale_mark_makes_the_next_read_rebuild(api) -> None:
    contest = make_contest()
    user = UserFactory()
    submit(contest, user, 5)
    Entry.objects.filter(user=user).update(score=7, version=99)
    services.board_mark_stale(contest=contest)

    body = api.get(_board_url(contest)).json()

    assert body["results"][0]["score"] == 7
    contest.refresh_from_db()
    assert contest.board_stale_since is None


def test_a_rename_reaches_the_live_board(api, user, user_api) -> None:
    contest = make_contest()
    submit(contest, user, 5)

    user_api.patch("/api/v1/auth/me/", {"display_name": "Renamed"})

    assert (
        api.get(_board_url(contest)).json()["results"][0]["display_name"] == "Renamed"
    )


def test_drafts_are_hidden_and_admins_see_them(api, admin_api) -> None:
    contest = make_contest(published_at=None)

    assert api.get(_board_url(contest)).status_code == 404
    assert admin_api.get(_board_url(contest)).status_code == 200


def test_seeding_is_idempotent_and_builds_every_state(capsys) -> None:
    call_command("seed_demo")
    call_command("seed_demo")

    states = {c.slug: c.state for c in Contest.objects.all()}
    assert set(states.values()) == {
        "draft",
        "scheduled",
        "running",
        "frozen",
        "ended",
        "finalized",
        "cancelled",
    }
    assert Contest.objects.count() == len(states) == 9
    assert "kept contest demo-running" in capsys.readouterr().out
    running = Contest.objects.get(slug="demo-running")
    assert running.submissions.count() == 120
    call_command("rebuild_leaderboards", "demo-running", "--verify")
