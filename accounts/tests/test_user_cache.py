"""The cached user state: one Redis read per request, never a stale role."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.cache import user_get_cached
from accounts.models import Role, User
from conftest import client_for
from contestplatform.testing import RedisProcess

from .factories import UserFactory

pytestmark = pytest.mark.django_db

USERS = "/api/v1/users/"
ME = "/api/v1/auth/me/"


def _user_queries(context: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in context.captured_queries if "accounts_user" in q["sql"]]


def test_a_warm_cache_authenticates_without_reading_the_user_row(admin_user) -> None:
    client = client_for(admin_user)
    assert client.get(USERS).status_code == 200

    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"{USERS}{admin_user.pk}/")

    assert response.status_code == 200
    # The one query left is the view's own look-up of the user it shows.
    assert len(_user_queries(queries)) == 1


def test_a_demoted_admin_loses_admin_endpoints_at_the_next_request(
    admin_user,
) -> None:
    other = UserFactory(role=Role.ADMIN)
    demoted = client_for(other)
    assert demoted.get(USERS).status_code == 200

    response = client_for(admin_user).patch(
        f"{USERS}{other.pk}/", {"role": "USER"}, format="json"
    )

    assert response.status_code == 200
    assert demoted.get(USERS).status_code == 403


def test_a_user_deactivated_by_an_admin_gets_401_at_the_next_request(
    admin_user, user
) -> None:
    client = client_for(user)
    assert client.get(ME).status_code == 200

    client_for(admin_user).patch(
        f"{USERS}{user.pk}/", {"is_active": False}, format="json"
    )

    response = client.get(ME)
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == "user_inactive"


def test_a_queryset_update_of_the_role_is_seen_at_the_next_request(
    admin_user,
) -> None:
    client = client_for(admin_user)
    assert client.get(USERS).status_code == 200

    User.objects.filter(pk=admin_user.pk).update(role=Role.USER)

    assert client.get(USERS).status_code == 403


def test_a_rename_shows_in_me_at_the_next_request(user) -> None:
    client = client_for(user)
    assert client.get(ME).status_code == 200

    User.objects.filter(pk=user.pk).update(display_name="Renamed-Player")

    assert client.get(ME).json()["display_name"] == "Renamed-Player"


def test_a_cached_user_loads_the_fields_left_out_on_access(user) -> None:
    user_get_cached(user_id=user.pk)
    cached = user_get_cached(user_id=user.pk)

    assert cached is not None
    assert cached.email == user.email
    assert cached.check_password("correct-horse-battery-9")


def test_saving_a_cached_user_keeps_the_password(user) -> None:
    user_get_cached(user_id=user.pk)
    cached = user_get_cached(user_id=user.pk)
    assert cached is not None

    cached.display_name = "Saved-From-Cache"
    cached.save()

    user.refresh_from_db()
    assert user.display_name == "Saved-From-Cache"
    assert user.check_password("correct-horse-battery-9")


def test_without_redis_users_are_read_from_postgres(settings, user) -> None:
    client = client_for(user)
    with RedisProcess() as server:
        settings.CACHES = {
            "default": {**settings.CACHES["default"], "LOCATION": server.url}
        }
        assert client.get(ME).status_code == 200
        server.stop()

        User.objects.filter(pk=user.pk).update(is_active=False)

        assert client.get(ME).status_code == 401
