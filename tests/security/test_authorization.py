"""Who may do what, for every operation of the schema, and whose data.

The matrix calls each operation anonymously, as a participant, as another
user and as an admin; ``world.ACCESS`` states the expectation. The object
checks then try one user's submissions, entry and account as another, and
privileged fields sent by a user must change nothing.
"""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Role, User
from conftest import client_for
from contests.models import Contest, Participation
from leaderboards.models import Entry, Kind, Submission
from tests.security.world import ACCESS, OPERATIONS, World, call, make_world

pytestmark = pytest.mark.django_db

ROLES = ["anonymous", "player", "other", "admin"]
DENIED = {
    # role -> the status every operation it may not call answers
    "anonymous": 401,
    "player": 403,
    "other": 403,
}


@pytest.fixture
def world() -> World:
    return make_world()


def _client(world: World, role: str) -> APIClient:
    if role == "anonymous":
        return APIClient()
    return client_for(getattr(world, role))


def _allowed(access: str, role: str) -> bool:
    if access in ("anyone", "public"):
        return True
    if access == "user":
        return role != "anonymous"
    return role == "admin"


def test_every_operation_of_the_schema_has_its_audience() -> None:
    assert {op.id for op in OPERATIONS} == set(ACCESS)


def test_the_schema_names_the_bearer_scheme_on_every_protected_operation() -> None:
    for operation in OPERATIONS:
        assert operation.bearer == (ACCESS[operation.id] != "anyone"), operation


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(
    "operation",
    [op for op in OPERATIONS if ACCESS[op.id] != "anyone"],
    ids=str,
)
def test_the_authorization_matrix(world: World, operation, role: str, settings) -> None:
    # Streams are served elsewhere; configured, the API redirects to them.
    settings.STREAM_BASE_URL = "http://127.0.0.1:9"
    client = _client(world, role)
    response = call(client, operation, world.url(operation))
    status = response.status_code

    assert status < 500, (status, response.content[:300])
    if _allowed(ACCESS[operation.id], role):
        assert status not in (401, 403), (status, response.json())
    else:
        assert status == DENIED[role], (status, response.json())
        assert response.json()["errors"][0]["code"] in {
            "not_authenticated",
            "permission_denied",
        }


@pytest.mark.parametrize("role", ["player", "other"])
def test_a_denied_write_changes_nothing(world: World, role: str) -> None:
    client = _client(world, role)
    slug = world.contest.slug
    entry = Entry.objects.get(contest=world.contest, user=world.player)
    before = (
        Contest.objects.filter(pk=world.contest.pk).values().get(),
        Entry.objects.filter(pk=entry.pk).values().get(),
        list(User.objects.order_by("pk").values("pk", "role", "is_active")),
        Submission.objects.count(),
    )
    base = f"/api/v1/contests/{slug}"
    attempts = [
        client.patch(f"{base}/", {"title": "Mine now"}),
        client.delete(f"{base}/"),
        *(client.post(f"{base}/{action}/") for action in ("end", "cancel", "freeze")),
        client.post(f"{base}/entries/{world.player.pk}/hide/"),
        client.post(
            f"{base}/entries/{world.player.pk}/adjust/",
            {"delta": 10**6, "reason": "x"},
        ),
        client.patch(f"/api/v1/users/{world.player.pk}/", {"role": "ADMIN"}),
        client.patch(f"/api/v1/users/{world.other.pk}/", {"is_active": False}),
    ]

    assert {response.status_code for response in attempts} == {403}
    after = (
        Contest.objects.filter(pk=world.contest.pk).values().get(),
        Entry.objects.filter(pk=entry.pk).values().get(),
        list(User.objects.order_by("pk").values("pk", "role", "is_active")),
        Submission.objects.count(),
    )
    assert after == before


def test_a_user_sees_only_their_own_submissions(world: World) -> None:
    url = f"/api/v1/contests/{world.contest.slug}/submissions/"
    other = client_for(world.other)

    mine = other.get(url).json()
    asked_for_player = other.get(url, {"user": world.player.pk}).json()
    as_admin = client_for(world.admin).get(url, {"user": world.player.pk}).json()

    assert mine["results"] == []
    assert asked_for_player["results"] == []
    assert [s["user_id"] for s in as_admin["results"]] == [world.player.pk]


def test_leaderboard_me_is_always_the_callers_own(world: World) -> None:
    url = f"/api/v1/contests/{world.contest.slug}/leaderboard/me/"

    response = client_for(world.other).get(url, {"user": world.player.pk})

    assert response.status_code == 200
    assert response.json()["score"] is None
    assert response.json()["rank"] is None


def test_a_user_cannot_read_another_account_or_list_users(world: World) -> None:
    client = client_for(world.other)

    assert client.get(f"/api/v1/users/{world.player.pk}/").status_code == 403
    assert client.get("/api/v1/users/", {"search": "player"}).status_code == 403


def test_the_live_view_of_a_board_is_for_admins(world: World) -> None:
    url = f"/api/v1/contests/{world.contest.slug}/leaderboard/"

    assert client_for(world.player).get(url, {"view": "live"}).status_code == 403
    assert APIClient().get(url, {"view": "live"}).status_code == 403
    assert client_for(world.admin).get(url, {"view": "live"}).status_code == 200


def test_drafts_are_invisible_to_everyone_but_admins(world: World) -> None:
    draft = Contest.objects.create(
        slug="secret-draft",
        title="Draft",
        starts_at=timezone.now() + timedelta(days=1),
        ends_at=timezone.now() + timedelta(days=2),
    )
    paths = [
        f"/api/v1/contests/{draft.slug}/",
        f"/api/v1/contests/{draft.slug}/leaderboard/",
        f"/api/v1/contests/{draft.slug}/submissions/",
    ]

    for client in (APIClient(), client_for(world.player)):
        listed = client.get("/api/v1/contests/").json()["results"]
        assert draft.slug not in [c["slug"] for c in listed]
        for path in paths:
            assert client.get(path).status_code in (401, 404), path
    assert client_for(world.admin).get(paths[0]).status_code == 200


# --- privileged fields ------------------------------------------------------


def test_registration_ignores_every_privileged_field(api: APIClient) -> None:
    response = api.post(
        "/api/v1/auth/register/",
        {
            "email": "climber@example.com",
            "password": "a-long-enough-passphrase",
            "display_name": "climber",
            "role": "ADMIN",
            "is_staff": True,
            "is_superuser": True,
            "is_active": False,
            "id": 1,
            "date_joined": "2000-01-01T00:00:00Z",
        },
    )

    assert response.status_code == 201
    user = User.objects.get(email="climber@example.com")
    assert (user.role, user.is_staff, user.is_superuser, user.is_active) == (
        Role.USER,
        False,
        False,
        True,
    )
    assert user.date_joined.year > 2000


def test_me_patch_ignores_every_privileged_field(world: World) -> None:
    client = client_for(world.player)
    before = User.objects.filter(pk=world.player.pk).values().get()

    response = client.patch(
        "/api/v1/auth/me/",
        {
            "role": "ADMIN",
            "is_staff": True,
            "is_superuser": True,
            "is_active": False,
            "email": "taken-over@example.com",
            "id": world.admin.pk,
            "password": "new-password-123",
        },
    )

    assert response.status_code == 200
    after = User.objects.filter(pk=world.player.pk).values().get()
    assert after == before


def test_a_submission_is_always_the_callers_own_plain_score(world: World) -> None:
    client = client_for(world.other)
    url = f"/api/v1/contests/{world.contest.slug}/submissions/"

    response = client.post(
        url,
        {
            "score": 5,
            "user_id": world.player.pk,
            "user": world.player.pk,
            "kind": "adjustment",
            "outcome": "adjusted",
            "new_best": False,
            "created_by": world.admin.pk,
            "created_at": "2000-01-01T00:00:00Z",
            "entry": {"score": 10**9, "version": 99},
            "rank": 1,
            "reason": "promoted myself",
        },
    )

    assert response.status_code == 201
    submission = Submission.objects.get(pk=response.json()["submission"]["id"])
    assert submission.user_id == world.other.pk
    assert submission.kind == Kind.SCORE
    assert submission.created_by is None
    assert submission.reason == ""
    assert submission.created_at.year > 2000
    assert Entry.objects.get(contest=world.contest, user=world.other).score == 5
    assert Entry.objects.get(contest=world.contest, user=world.player).score == 40


def test_joining_takes_part_as_oneself_only(world: World) -> None:
    contest = Contest.objects.create(
        slug="join-me",
        title="Join",
        starts_at=timezone.now() + timedelta(days=1),
        ends_at=timezone.now() + timedelta(days=2),
        published_at=timezone.now(),
    )

    response = client_for(world.other).post(
        f"/api/v1/contests/{contest.slug}/join/", {"user": world.player.pk}
    )

    assert response.status_code == 201
    joined = set(
        Participation.objects.filter(contest=contest).values_list("user_id", flat=True)
    )
    assert joined == {world.other.pk}


def test_an_admin_update_of_a_user_changes_only_role_and_active(world: World) -> None:
    before = User.objects.filter(pk=world.player.pk).values().get()

    response = client_for(world.admin).patch(
        f"/api/v1/users/{world.player.pk}/",
        {
            "is_active": True,
            "email": "renamed@example.com",
            "display_name": "renamed",
            "is_superuser": True,
            "is_staff": True,
        },
    )

    assert response.status_code == 200
    after = User.objects.filter(pk=world.player.pk).values().get()
    assert {k: v for k, v in after.items() if k != "updated_at"} == {
        k: v for k, v in before.items() if k != "updated_at"
    }


def test_contest_fields_the_server_owns_cannot_be_sent(world: World) -> None:
    response = client_for(world.admin).post(
        "/api/v1/contests/",
        {
            "slug": "owned-fields",
            "title": "Owned",
            "starts_at": "2030-01-01T00:00:00Z",
            "ends_at": "2030-01-02T00:00:00Z",
            "id": 1,
            "state": "finalized",
            "published_at": "2020-01-01T00:00:00Z",
            "finalized_at": "2020-01-01T00:00:00Z",
            "cancelled_at": "2020-01-01T00:00:00Z",
            "participant_count": 10**6,
            "created_at": "2000-01-01T00:00:00Z",
        },
    )

    assert response.status_code == 201, response.json()
    contest = Contest.objects.get(slug="owned-fields")
    assert contest.published_at is None
    assert contest.finalized_at is None
    assert contest.cancelled_at is None
    assert contest.created_at.year > 2000
    assert response.json()["state"] == "draft"
    assert response.json()["participant_count"] == 0


def test_an_adjustment_applies_to_the_entry_of_the_path_only(world: World) -> None:
    Participation.objects.get_or_create(contest=world.contest, user=world.other)
    response = client_for(world.admin).post(
        f"/api/v1/contests/{world.contest.slug}/entries/{world.player.pk}/adjust/",
        {"delta": 3, "reason": "award", "user_id": world.other.pk},
    )

    assert response.status_code == 201
    assert Entry.objects.get(contest=world.contest, user=world.player).score == 43
    assert not Entry.objects.filter(contest=world.contest, user=world.other).exists()
