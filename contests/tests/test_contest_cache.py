"""The contest cache: every write to a contest is seen at the next request."""

import threading

import pytest
from django.db import connection, transaction

from conftest import client_for
from contestplatform.gencache import GenerationCache
from contests.cache import contest_get_cached
from contests.models import Contest
from contests.selectors import contest_get
from leaderboards import services
from leaderboards.tests.conftest import make_contest, submit

from .helpers import action_url, detail_url

pytestmark = pytest.mark.django_db


def _board(slug: str) -> str:
    return f"/api/v1/contests/{slug}/leaderboard/"


def test_a_warm_cache_reads_the_contest_without_a_query(api) -> None:
    contest = make_contest()
    assert api.get(_board(contest.slug)).status_code == 200

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Contest.objects, "filter", _no_query)
        found = contest_get(slug=contest.slug)

    assert found is not None
    assert found.pk == contest.pk
    assert found.board_expires_at == contest.board_expires_at
    assert found.retention == contest.retention


def _no_query(*args: object, **kwargs: object) -> None:
    raise AssertionError("the contest was read from PostgreSQL")


def test_an_admin_action_is_seen_at_the_next_request(api, admin_user) -> None:
    contest = make_contest()
    assert api.get(_board(contest.slug)).json()["frozen"] is False

    response = client_for(admin_user).post(action_url(contest.slug, "freeze"))

    assert response.status_code == 200, response.json()
    assert api.get(_board(contest.slug)).json()["frozen"] is True


def test_an_admin_edit_is_seen_at_the_next_request(api, admin_user) -> None:
    contest = make_contest(published_at=None)
    admin = client_for(admin_user)
    assert admin.get(_board(contest.slug)).status_code == 200
    assert api.get(_board(contest.slug)).status_code == 404

    admin.post(action_url(contest.slug, "publish"))

    assert api.get(_board(contest.slug)).status_code == 200


def test_a_changed_slug_is_found_and_the_old_one_is_gone(admin_user) -> None:
    contest = make_contest(published_at=None)
    assert contest_get(slug=contest.slug) is not None

    Contest.objects.filter(pk=contest.pk).update(slug="renamed")

    assert contest_get(slug=contest.slug) is None
    assert contest_get(slug="renamed") is not None
    assert client_for(admin_user).get(detail_url("renamed")).status_code == 200


def test_a_stale_mark_written_by_update_is_seen_by_the_next_read(api) -> None:
    contest = make_contest()
    player = submit(contest, make_player(), 5).submission.user
    assert api.get(_board(contest.slug)).json()["results"][0]["score"] == 5
    # A change that reached PostgreSQL but not Redis, as after a failure.
    contest.entries.filter(user=player).update(score=9, version=50)

    services.board_mark_stale(contest=contest)

    assert api.get(_board(contest.slug)).json()["results"][0]["score"] == 9


def make_player():
    from accounts.tests.factories import UserFactory

    return UserFactory()


def test_a_deleted_contest_is_gone_at_the_next_request(admin_user) -> None:
    contest = make_contest(published_at=None)
    assert contest_get(slug=contest.slug) is not None

    client_for(admin_user).delete(detail_url(contest.slug))

    assert contest_get(slug=contest.slug) is None


def test_a_value_loaded_before_a_write_is_dead_when_stored() -> None:
    contest = make_contest()
    cache = GenerationCache("race", ttl=60, enabled=lambda: True)

    def title() -> str:
        return Contest.objects.get(pk=contest.pk).title

    def load_then_write() -> str:
        # The reader has read the old row; a writer commits and invalidates
        # before the reader stores it.
        found = title()
        Contest.objects.filter(pk=contest.pk).update(title="New title")
        cache.invalidate("all")
        return found

    def read(load):
        return cache.get(
            "all", contest.slug, load=load, dump=str.encode, parse=bytes.decode
        )

    assert read(load_then_write) == "Test contest"
    assert read(title) == "New title"


@pytest.mark.django_db(transaction=True)
def test_a_reader_between_the_write_and_its_commit_cannot_keep_the_old_row() -> None:
    contest = make_contest()
    contest_get_cached(slug=contest.slug)
    seen: list[str] = []

    def read_elsewhere() -> None:
        try:
            found = contest_get_cached(slug=contest.slug)
            seen.append(found.title if found else "")
        finally:
            connection.close()

    with transaction.atomic():
        contest.title = "Edited"
        contest.save()
        # Another request reads the committed (old) row now and caches it
        # under the token the save just wrote.
        reader = threading.Thread(target=read_elsewhere)
        reader.start()
        reader.join()

    after = contest_get_cached(slug=contest.slug)
    assert seen == ["Test contest"]
    assert after is not None
    assert after.title == "Edited"


def test_each_hit_gets_its_own_instance(api) -> None:
    # Parsed values are kept per process; the instances built from them
    # must not be shared, or one request's change would reach the next.
    contest = make_contest()
    assert api.get(_board(contest.slug)).status_code == 200
    first = contest_get_cached(slug=contest.slug)
    assert first is not None
    first.title = "Changed in memory only"

    second = contest_get_cached(slug=contest.slug)

    assert second is not None
    assert second is not first
    assert second.title == "Test contest"
    assert second.starts_at == contest.starts_at


def test_a_row_with_a_mutable_value_is_parsed_every_time() -> None:
    from accounts.models import User
    from contestplatform import gencache

    # No model field here holds a list; the guard is for the day one does.
    raw = b'["someone"]'
    with pytest.MonkeyPatch.context() as patch:
        field = User._meta.get_field("display_name")
        patch.setattr(field, "to_python", lambda value: [value])
        gencache.row_parse(User, ("display_name",), raw)

    assert (User, ("display_name",), raw) not in gencache._parsed
