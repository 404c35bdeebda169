"""The contest pages and actions of the Django admin."""

from datetime import timedelta
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.utils import timezone

from accounts.tests.factories import UserFactory
from contests.models import Contest, State

from .factories import HOUR, ContestFactory, ParticipationFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/contests/contest/"
ADD = f"{CHANGELIST}add/"


def _change_url(contest: Contest) -> str:
    return f"{CHANGELIST}{contest.pk}/change/"


@pytest.fixture
def site(admin_user) -> Client:
    client = Client()
    client.force_login(admin_user)
    return client


def _listed(response: Any) -> set[str]:
    assert response.status_code == 200
    return {contest.slug for contest in response.context["cl"].result_list}


def _form(contest: Contest | None = None, **changes: Any) -> dict[str, Any]:
    """Build the add or change form's POST data, as the browser sends it."""
    start = timezone.now() + HOUR
    data: dict[str, Any] = {
        "slug": "admin-made",
        "title": "Admin made",
        "description": "",
        "starts_at_0": start.date().isoformat(),
        "starts_at_1": start.time().isoformat(timespec="seconds"),
        "ends_at_0": (start + HOUR).date().isoformat(),
        "ends_at_1": (start + HOUR).time().isoformat(timespec="seconds"),
        "freeze_at_0": "",
        "freeze_at_1": "",
        "scoring": "best",
        "order": "desc",
        "ties": "earliest",
        "score_min": "0",
        "score_max": "1000",
        "max_participants": "",
        "max_submissions_per_user": "",
        "retention": "7 00:00:00",
        "participants-TOTAL_FORMS": "0",
        "participants-INITIAL_FORMS": "0",
    }
    if contest is not None:
        data.update(_stored(contest))
    data.update(changes)
    return data


def _stored(contest: Contest) -> dict[str, Any]:
    def split(name: str, value: Any) -> dict[str, str]:
        if value is None:
            return {f"{name}_0": "", f"{name}_1": ""}
        local = timezone.localtime(value)
        return {
            f"{name}_0": local.date().isoformat(),
            # The admin's widget shows whole seconds, so a browser sends them.
            f"{name}_1": local.time().isoformat(timespec="seconds"),
        }

    fields = {
        name: str(getattr(contest, name))
        for name in ("slug", "title", "description", "scoring", "order", "ties")
    }
    fields.update(
        score_min=str(contest.score_min),
        score_max=str(contest.score_max),
        retention="7 00:00:00",
        **split("starts_at", contest.starts_at),
        **split("ends_at", contest.ends_at),
        **split("freeze_at", contest.freeze_at),
    )
    return fields


def test_the_changelist_shows_each_contests_state(site) -> None:
    for state in State:
        ContestFactory.create(**{state: True}, title=f"title-{state}")

    response = site.get(CHANGELIST)

    page = response.content.decode()
    assert response.status_code == 200
    for state in State:
        assert f'<td class="field-state_display">{state.label}</td>' in page


@pytest.mark.parametrize("state", list(State))
def test_the_state_filter_lists_the_contests_in_that_state(site, state) -> None:
    slugs = {s: ContestFactory.create(**{s: True}).slug for s in State}

    response = site.get(CHANGELIST, {"state": state})

    assert _listed(response) == {slugs[state]}


def test_the_search_finds_a_contest_by_title_or_slug(site) -> None:
    wanted = ContestFactory.create(title="Winter regatta", slug="boats")
    ContestFactory.create(title="Spring cup")

    assert _listed(site.get(CHANGELIST, {"q": "regatta"})) == {wanted.slug}
    assert _listed(site.get(CHANGELIST, {"q": "boats"})) == {wanted.slug}


def test_the_add_page_renders(site) -> None:
    response = site.get(ADD)

    assert response.status_code == 200
    assert b'name="slug"' in response.content


def test_an_admin_adds_a_draft_contest(site, admin_user) -> None:
    response = site.post(ADD, _form())

    assert response.status_code == 302, response.context["errors"]
    contest = Contest.objects.get(slug="admin-made")
    assert contest.created_by == admin_user
    assert contest.state == State.DRAFT


def test_the_add_form_refuses_an_end_before_the_start(site) -> None:
    start = timezone.now() + HOUR
    early = start - HOUR

    response = site.post(
        ADD,
        _form(
            ends_at_0=early.date().isoformat(),
            ends_at_1=early.time().isoformat(timespec="seconds"),
        ),
    )

    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert not Contest.objects.exists()


@pytest.mark.parametrize(
    "changes",
    [
        {"retention": "400 00:00:00"},
        {"retention": "-1 00:00:00"},
        {"score_max": str(2**53)},
        {"ends_at_0": "9999-12-31", "ends_at_1": "00:00:00"},
    ],
)
def test_the_add_form_refuses_what_the_api_refuses(site, changes) -> None:
    response = site.post(ADD, _form(**changes))

    assert response.status_code == 200
    assert response.context["adminform"].form.errors
    assert not Contest.objects.exists()


def test_the_change_page_shows_the_participants(site) -> None:
    contest = ContestFactory.create()
    joined = ParticipationFactory.create(contest=contest)

    response = site.get(_change_url(contest))

    assert response.status_code == 200
    assert response.context["inline_admin_formsets"]
    page = response.content.decode()
    assert 'name="participants-0-user"' in page
    assert f'value="{joined.user_id}"' in page


def test_the_change_form_saves_a_new_title(site) -> None:
    contest = ContestFactory.create()

    response = site.post(_change_url(contest), _form(contest, title="Renamed"))

    assert response.status_code == 302, response.context["adminform"].form.errors
    contest.refresh_from_db()
    assert contest.title == "Renamed"


@pytest.mark.parametrize(
    "changes", [{"scoring": "sum"}, {"order": "asc"}, {"score_max": "5"}]
)
def test_the_change_form_keeps_the_rules_of_a_started_contest(site, changes):
    contest = ContestFactory.create()
    before = Contest.objects.values().get(pk=contest.pk)

    response = site.post(_change_url(contest), _form(contest, **changes))

    assert response.status_code == 200
    assert set(response.context["adminform"].form.errors) == set(changes)
    assert Contest.objects.values().get(pk=contest.pk) == before


def test_the_change_form_refuses_to_edit_a_finalized_contest(site) -> None:
    contest = ContestFactory.create(finalized=True)

    response = site.post(_change_url(contest), _form(contest, title="Rewritten"))

    assert response.status_code == 200
    contest.refresh_from_db()
    assert contest.title != "Rewritten"


# --- actions ---------------------------------------------------------------

ACTIONS = [
    ("contest_publish", {"draft": True, "scheduled": True}, State.SCHEDULED),
    ("contest_start", {"scheduled": True}, State.RUNNING),
    ("contest_freeze", {"running": True}, State.FROZEN),
    ("contest_end", {"frozen": True}, State.ENDED),
    ("contest_finalize", {"ended": True}, State.FINALIZED),
    ("contest_cancel", {"scheduled": True}, State.CANCELLED),
]


def _run_action(site: Client, action: str, *contests: Contest) -> Any:
    return site.post(
        CHANGELIST,
        {"action": action, "_selected_action": [c.pk for c in contests]},
        follow=True,
    )


@pytest.mark.parametrize(("action", "fields", "state"), ACTIONS)
def test_an_admin_action_moves_the_contest(site, action, fields, state) -> None:
    contest = ContestFactory.create(**fields)

    response = _run_action(site, action, contest)

    assert response.status_code == 200
    contest.refresh_from_db()
    assert contest.state == state
    messages = [str(m) for m in get_messages(response.wsgi_request)]
    assert any("1 contest(s)" in m for m in messages)


def test_an_admin_action_steers_several_contests_at_once(site) -> None:
    contests = ContestFactory.create_batch(3)

    _run_action(site, "contest_end", *contests)

    assert {c.state for c in Contest.objects.all()} == {State.ENDED}


def test_an_action_refused_by_the_state_warns_and_changes_nothing(site) -> None:
    running = ContestFactory.create()
    draft = ContestFactory.create(draft=True, scheduled=True)

    response = _run_action(site, "contest_publish", running, draft)

    messages = [str(m) for m in get_messages(response.wsgi_request)]
    assert any(running.slug in m and "running" in m for m in messages)
    running.refresh_from_db()
    draft.refresh_from_db()
    assert (running.state, draft.state) == (State.RUNNING, State.SCHEDULED)


def test_the_end_action_works_before_a_planned_freeze(site) -> None:
    contest = ContestFactory.create(freeze_at=timezone.now() + timedelta(minutes=30))

    _run_action(site, "contest_end", contest)

    contest.refresh_from_db()
    assert contest.state == State.ENDED


# --- deletion and access ---------------------------------------------------


def test_the_admin_deletes_a_draft(site) -> None:
    contest = ContestFactory.create(draft=True)

    response = site.post(f"{CHANGELIST}{contest.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not Contest.objects.exists()


@pytest.mark.parametrize("state", ["scheduled", "running", "ended"])
def test_the_admin_keeps_a_contest_that_is_no_draft(site, state) -> None:
    contest = ContestFactory.create(**{state: True})
    ParticipationFactory.create(contest=contest)

    response = site.post(f"{CHANGELIST}{contest.pk}/delete/", {"post": "yes"})

    assert response.status_code == 403
    assert Contest.objects.filter(pk=contest.pk).exists()


def test_a_user_without_the_admin_role_is_sent_to_the_login() -> None:
    client = Client()
    client.force_login(UserFactory.create())

    response = client.get(CHANGELIST)

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_the_bulk_delete_action_keeps_a_contest_that_is_no_draft(site) -> None:
    draft, running = ContestFactory.create(draft=True), ContestFactory.create()

    response = site.post(
        CHANGELIST,
        {
            "action": "delete_selected",
            "_selected_action": [draft.pk, running.pk],
            "post": "yes",
        },
    )

    assert response.status_code == 403
    assert Contest.objects.count() == 2


def test_an_unknown_state_in_the_filter_is_no_server_error(site) -> None:
    ContestFactory.create()

    response = site.get(CHANGELIST, {"state": "bogus"})

    assert response.status_code == 302
    assert "e=1" in response["Location"]
