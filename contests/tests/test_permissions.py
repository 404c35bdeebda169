"""Who may call each contests endpoint: anonymous, USER and ADMIN."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Role, User
from accounts.tests.factories import UserFactory
from conftest import client_for
from contests.models import Contest

from .factories import HOUR, ContestFactory, ParticipationFactory
from .helpers import LIST_URL, action_url, detail_url, error_code

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Case:
    method: str
    path: Callable[[Contest], str]
    state: str
    anonymous: int
    user: int
    admin: int
    body: dict[str, Any] | None = None
    # The caller has joined the contest before the call.
    joined: bool = False


def _new_contest_body(_: Contest) -> dict[str, Any]:
    start = timezone.now() + HOUR
    return {
        "slug": "new-one",
        "title": "New one",
        "starts_at": start.isoformat(),
        "ends_at": (start + HOUR).isoformat(),
    }


def _action(name: str) -> Callable[[Contest], str]:
    return lambda contest: action_url(contest.slug, name)


def _detail(contest: Contest) -> str:
    return detail_url(contest.slug)


def _list(_: Contest) -> str:
    return LIST_URL


CASES = {
    "list": Case("get", _list, "running", 200, 200, 200),
    "read": Case("get", _detail, "running", 200, 200, 200),
    "read a draft": Case("get", _detail, "draft", 404, 404, 200),
    "create": Case("post", _list, "running", 401, 403, 201, body={}),
    "update": Case("patch", _detail, "scheduled", 401, 403, 200, {"title": "T"}),
    "delete a draft": Case("delete", _detail, "draft", 401, 403, 204),
    "publish": Case("post", _action("publish"), "draft", 401, 403, 200),
    "start": Case("post", _action("start"), "scheduled", 401, 403, 200),
    "freeze": Case("post", _action("freeze"), "running", 401, 403, 200),
    "end": Case("post", _action("end"), "running", 401, 403, 200),
    "finalize": Case("post", _action("finalize"), "ended", 401, 403, 200),
    "cancel": Case("post", _action("cancel"), "running", 401, 403, 200),
    "join": Case("post", _action("join"), "running", 401, 201, 201),
    "leave": Case("post", _action("leave"), "scheduled", 401, 204, 204, joined=True),
}


def _contest_for(case: Case, actor: User | None) -> Contest:
    fields: dict[str, object] = {case.state: True}
    if case.state == "draft":
        fields["scheduled"] = True  # publishable
    contest = ContestFactory.create(**fields)
    if case.joined and actor is not None:
        ParticipationFactory.create(contest=contest, user=actor)
    return contest


def _call(case: Case, actor: User | None) -> tuple[Any, Contest]:
    contest = _contest_for(case, actor)
    client = client_for(actor) if actor else APIClient()
    body = _new_contest_body(contest) if case.body == {} else case.body
    response = getattr(client, case.method)(case.path(contest), body, format="json")
    return response, contest


def _check(response: Any, status: int) -> None:
    if status >= 400:
        error_code(response, status)  # checks the error shape
    else:
        assert response.status_code == status, response.content


@pytest.mark.parametrize("name", list(CASES))
def test_anonymous_callers_may_only_read_published_contests(name) -> None:
    case = CASES[name]

    response, _ = _call(case, None)

    _check(response, case.anonymous)
    if case.anonymous == 401:
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("name", list(CASES))
def test_users_read_join_and_leave_but_never_steer(name) -> None:
    case = CASES[name]
    user = UserFactory.create()

    response, _ = _call(case, user)

    _check(response, case.user)


@pytest.mark.parametrize("name", list(CASES))
def test_admins_may_call_every_endpoint(name) -> None:
    case = CASES[name]
    admin = UserFactory.create(role=Role.ADMIN)

    response, _ = _call(case, admin)

    _check(response, case.admin)


@pytest.mark.parametrize("name", [n for n, case in CASES.items() if case.user == 403])
def test_a_refused_user_changes_nothing(name) -> None:
    case = CASES[name]
    response, contest = _call(case, UserFactory.create())

    assert response.status_code == 403
    assert Contest.objects.count() == 1
    stored = Contest.objects.get()
    assert (stored.title, stored.state) == (contest.title, contest.state)


def test_a_demoted_admin_loses_the_admin_actions_at_once() -> None:
    admin = UserFactory.create(role=Role.ADMIN)
    client = client_for(admin)
    contest = ContestFactory.create()
    User.objects.filter(pk=admin.pk).update(role=Role.USER)

    response = client.post(action_url(contest.slug, "end"))

    assert error_code(response, 403) == "permission_denied"


def test_a_deactivated_user_cannot_join() -> None:
    user = UserFactory.create()
    client = client_for(user)
    contest = ContestFactory.create()
    User.objects.filter(pk=user.pk).update(is_active=False)

    response = client.post(action_url(contest.slug, "join"))

    assert error_code(response, 401) == "user_inactive"
    assert not contest.participants.exists()
