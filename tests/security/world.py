"""The operations of the OpenAPI schema, and a small world to call them in.

``OPERATIONS`` is read from the schema the API serves, so a new endpoint
joins the security tests by itself; ``ACCESS`` says who each one is for,
and a test fails while an operation is missing from it.
"""

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from accounts.models import Role, User
from accounts.tests.factories import UserFactory
from conftest import PASSWORD
from contests.models import Contest
from leaderboards.tests.conftest import make_contest, submit


@dataclass(frozen=True)
class Operation:
    id: str
    method: str
    path: str
    bearer: bool  # the schema lists the JWT scheme for it
    body: bool  # the schema describes a request body

    def url(self, **values: Any) -> str:
        return re.sub(r"\{(\w+)\}", lambda m: str(values[m.group(1)]), self.path)

    def __str__(self) -> str:
        return f"{self.method} {self.path}"


def _operations() -> list[Operation]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    found = []
    for path, methods in schema["paths"].items():
        for method, operation in methods.items():
            security = operation.get("security", [])
            found.append(
                Operation(
                    id=operation["operationId"],
                    method=method.upper(),
                    path=path,
                    bearer=any("jwtAuth" in scheme for scheme in security),
                    body="requestBody" in operation,
                )
            )
    return found


OPERATIONS = _operations()

# Who may call each operation: "anyone" (credentials, if any, in the body),
# "public" (reads for everyone; a bearer token is checked when sent),
# "user" (any active user) or "admin".
ACCESS = {
    "auth_register_create": "anyone",
    "auth_token_create": "anyone",
    "auth_token_refresh_create": "anyone",
    "auth_logout_create": "anyone",
    "auth_me_retrieve": "user",
    "auth_me_partial_update": "user",
    "users_list": "admin",
    "users_retrieve": "admin",
    "users_partial_update": "admin",
    "contests_list": "public",
    "contests_retrieve": "public",
    "contests_create": "admin",
    "contests_partial_update": "admin",
    "contests_destroy": "admin",
    "contests_publish_create": "admin",
    "contests_start_create": "admin",
    "contests_freeze_create": "admin",
    "contests_end_create": "admin",
    "contests_finalize_create": "admin",
    "contests_cancel_create": "admin",
    "contests_join_create": "user",
    "contests_leave_create": "user",
    "contests_submissions_list": "user",
    "contests_submissions_create": "user",
    "contests_leaderboard_list": "public",
    "contests_leaderboard_me_retrieve": "user",
    "contests_leaderboard_users_retrieve": "public",
    "contests_leaderboard_stream_retrieve": "public",
    "contests_entries_hide_create": "admin",
    "contests_entries_unhide_create": "admin",
    "contests_entries_adjust_create": "admin",
}

# A body each write accepts when the caller may make it.
BODIES: dict[str, Any] = {
    "auth_me_partial_update": {"display_name": "renamed-by-test"},
    "users_partial_update": {"role": "USER"},
    "contests_create": {
        "slug": "made-by-test",
        "title": "Made by the test",
        "starts_at": "2030-01-01T00:00:00Z",
        "ends_at": "2030-01-02T00:00:00Z",
    },
    "contests_partial_update": {"title": "Retitled"},
    "contests_submissions_create": {"score": 7},
    "contests_entries_adjust_create": {"delta": 1, "reason": "test"},
}


@dataclass
class World:
    """An admin, a participant with an entry, another user, one contest."""

    admin: User
    player: User
    other: User
    contest: Contest

    def values(self) -> dict[str, Any]:
        return {
            "slug": self.contest.slug,
            "user_id": self.player.pk,
            "id": self.player.pk,
        }

    def url(self, operation: Operation) -> str:
        return operation.url(**self.values())


def make_world() -> World:
    admin = UserFactory(password=PASSWORD, role=Role.ADMIN)
    player = UserFactory(password=PASSWORD)
    other = UserFactory(password=PASSWORD)
    contest = make_contest(ends_at=timezone.now() + timedelta(hours=2))
    submit(contest, player, 40)
    return World(admin=admin, player=player, other=other, contest=contest)


def call(client: APIClient, operation: Operation, url: str, body: Any = None) -> Any:
    method = getattr(client, operation.method.lower())
    if operation.method in {"POST", "PATCH", "PUT"}:
        payload = BODIES.get(operation.id, {}) if body is None else body
        return method(url, payload, format="json")
    return method(url)
