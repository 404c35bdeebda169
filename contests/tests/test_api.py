"""Listing, reading and deleting contests through the API."""

import pytest

from contests.models import Contest, State

from .factories import ContestFactory, ParticipationFactory
from .helpers import LIST_URL, action_url, detail_url, error_code, field_errors

pytestmark = pytest.mark.django_db


def _slugs(response) -> list[str]:
    assert response.status_code == 200, response.json()
    return [contest["slug"] for contest in response.json()["results"]]


def test_anyone_lists_published_contests_latest_start_first(api) -> None:
    early = ContestFactory.create(ended=True)
    late = ContestFactory.create(scheduled=True)
    ContestFactory.create(draft=True)

    response = api.get(LIST_URL)

    assert _slugs(response) == [late.slug, early.slug]
    assert response.json()["count"] == 2


def test_an_admin_lists_drafts_too(admin_api) -> None:
    draft = ContestFactory.create(draft=True)

    assert _slugs(admin_api.get(LIST_URL)) == [draft.slug]


def test_a_contest_reads_with_its_state_and_participant_count(api) -> None:
    contest = ContestFactory.create(frozen=True)
    ParticipationFactory.create_batch(3, contest=contest)

    response = api.get(detail_url(contest.slug))

    assert response.status_code == 200
    body = response.json()
    assert body["slug"] == contest.slug
    assert body["state"] == "frozen"
    assert body["participant_count"] == 3
    assert body["retention"] == "7 00:00:00"


@pytest.mark.parametrize("state", list(State))
def test_the_list_filters_by_state(admin_api, state) -> None:
    wanted = {ContestFactory.create(**{s: True}).slug: s for s in State}

    response = admin_api.get(LIST_URL, {"state": state})

    assert _slugs(response) == [slug for slug, s in wanted.items() if s == state]


def test_the_public_list_finds_no_drafts_by_state(api) -> None:
    ContestFactory.create(draft=True)

    assert _slugs(api.get(LIST_URL, {"state": "draft"})) == []


@pytest.mark.parametrize("state", ["over", "RUNNING", " running"])
def test_the_list_refuses_an_unknown_state(api, state) -> None:
    response = api.get(LIST_URL, {"state": state})

    assert field_errors(response) == {"state": "invalid"}


def test_the_state_filter_applies_to_the_list_only(admin_api) -> None:
    contest = ContestFactory.create()

    read = admin_api.get(detail_url(contest.slug), {"state": "ended"})
    ended = admin_api.post(f"{action_url(contest.slug, 'end')}?state=running")

    assert read.status_code == 200
    assert ended.status_code == 200, ended.json()
    assert ended.json()["state"] == "ended"


def test_the_list_pages(api) -> None:
    for _ in range(5):
        ContestFactory.create()

    first = api.get(LIST_URL, {"page_size": 2})
    last = api.get(LIST_URL, {"page_size": 2, "page": 3})

    assert first.json()["count"] == 5
    assert len(first.json()["results"]) == 2
    assert first.json()["next"]
    assert len(last.json()["results"]) == 1
    assert last.json()["next"] is None
    seen = _slugs(first) + _slugs(api.get(LIST_URL, {"page_size": 2, "page": 2}))
    assert len(set(seen + _slugs(last))) == 5


def test_the_page_size_is_clamped_to_200(api) -> None:
    ContestFactory.create_batch(201)

    response = api.get(LIST_URL, {"page_size": 10_000})

    assert len(response.json()["results"]) == 200
    assert response.json()["count"] == 201


@pytest.mark.parametrize("page_size", ["0", "-1", "many"])
def test_a_bad_page_size_is_a_400(api, page_size) -> None:
    ContestFactory.create_batch(3)

    response = api.get(LIST_URL, {"page_size": page_size})

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "page_size"


@pytest.mark.parametrize("page", ["2", "0", "last-but-one"])
def test_a_page_out_of_range_is_a_404(api, page) -> None:
    ContestFactory.create()

    assert error_code(api.get(LIST_URL, {"page": page}), 404) == "not_found"


def test_an_unknown_contest_is_a_404(api) -> None:
    assert error_code(api.get(detail_url("nowhere")), 404) == "not_found"


def test_a_draft_is_hidden_from_everyone_but_admins(api, user_api, admin_api):
    draft = ContestFactory.create(draft=True)

    assert error_code(api.get(detail_url(draft.slug)), 404) == "not_found"
    assert error_code(user_api.get(detail_url(draft.slug)), 404) == "not_found"
    assert admin_api.get(detail_url(draft.slug)).json()["state"] == "draft"


def test_create_and_update_answer_with_the_participant_count(admin_api) -> None:
    start = ContestFactory.build(scheduled=True)
    body = {
        "slug": "fresh",
        "title": "Fresh",
        "starts_at": start.starts_at.isoformat(),
        "ends_at": start.ends_at.isoformat(),
    }

    created = admin_api.post(LIST_URL, body, format="json")
    updated = admin_api.patch(detail_url("fresh"), {"title": "F"}, format="json")

    assert created.json()["participant_count"] == 0
    assert updated.json()["participant_count"] == 0


def test_an_admin_deletes_a_draft(admin_api) -> None:
    draft = ContestFactory.create(draft=True)

    response = admin_api.delete(detail_url(draft.slug))

    assert response.status_code == 204
    assert not Contest.objects.exists()


@pytest.mark.parametrize(
    "state", ["scheduled", "running", "frozen", "ended", "finalized", "cancelled"]
)
def test_only_drafts_can_be_deleted(admin_api, state) -> None:
    contest = ContestFactory.create(**{state: True})

    response = admin_api.delete(detail_url(contest.slug))

    assert error_code(response, 409) == "not_a_draft"
    assert Contest.objects.filter(pk=contest.pk).exists()


def test_put_is_not_allowed(admin_api) -> None:
    contest = ContestFactory.create(scheduled=True)

    response = admin_api.put(detail_url(contest.slug), {"title": "x"}, format="json")

    assert error_code(response, 405) == "method_not_allowed"


def test_it_refuses_a_body_that_is_not_json(admin_api) -> None:
    response = admin_api.post(
        LIST_URL, b'{"slug": NaN', content_type="application/json"
    )

    assert error_code(response, 400) == "parse_error"


def test_a_contest_serializes_its_times_in_utc(api) -> None:
    contest = ContestFactory.create(freeze_at=None)

    body = api.get(detail_url(contest.slug)).json()

    assert body["starts_at"].endswith("Z")
    assert body["freeze_at"] is None
