import pytest
from rest_framework.test import APIClient

from accounts.models import Role, User
from accounts.tests.factories import UserFactory
from conftest import PASSWORD, client_for

URL = "/api/v1/users/"

pytestmark = pytest.mark.django_db


def test_the_users_api_is_for_admins_only(api: APIClient, user_api: APIClient) -> None:
    assert api.get(URL).status_code == 401
    response = user_api.get(URL)
    assert response.status_code == 403
    assert response.json()["errors"][0]["code"] == "permission_denied"


def test_an_admin_lists_users_paginated_and_searchable(admin_api: APIClient) -> None:
    UserFactory.create_batch(3)
    UserFactory(email="needle@example.com", display_name="Needle")

    everyone = admin_api.get(URL, {"page_size": 2})
    found = admin_api.get(URL, {"search": "needl"})

    assert everyone.status_code == 200
    assert everyone.json()["count"] == 5
    assert len(everyone.json()["results"]) == 2
    assert [u["email"] for u in found.json()["results"]] == ["needle@example.com"]


def test_page_size_is_clamped(admin_api: APIClient) -> None:
    response = admin_api.get(URL, {"page_size": 10_000_000})

    assert response.status_code == 200


def test_an_out_of_range_page_is_a_404_in_the_shape(admin_api: APIClient) -> None:
    response = admin_api.get(URL, {"page": 99})

    assert response.status_code == 404
    assert response.json()["type"] == "client_error"


def test_an_admin_changes_a_role_and_it_takes_effect_at_once(
    admin_api: APIClient, user: User
) -> None:
    promoted = admin_api.patch(f"{URL}{user.pk}/", {"role": "ADMIN"}, format="json")
    user_client = client_for(user)

    assert promoted.status_code == 200
    assert promoted.json()["role"] == "ADMIN"
    assert user_client.get(URL).status_code == 200

    admin_api.patch(f"{URL}{user.pk}/", {"role": "USER"}, format="json")

    assert user_client.get(URL).status_code == 403


def test_a_demoted_admin_loses_admin_endpoints_on_the_next_request(
    admin_user: User,
) -> None:
    client = client_for(admin_user)
    assert client.get(URL).status_code == 200

    User.objects.filter(pk=admin_user.pk).update(role=Role.USER)

    assert client.get(URL).status_code == 403


def test_an_admin_deactivates_a_user_and_their_refresh_tokens_die(
    admin_api: APIClient, user: User
) -> None:
    api = APIClient()
    pair = api.post("/api/v1/auth/token/", {"email": user.email, "password": PASSWORD})

    response = admin_api.patch(f"{URL}{user.pk}/", {"is_active": False}, format="json")

    assert response.status_code == 200
    assert response.json()["is_active"] is False
    refresh = api.post(
        "/api/v1/auth/token/refresh/", {"refresh": pair.json()["refresh"]}
    )
    assert refresh.status_code == 401


def test_an_admin_cannot_change_their_own_role(
    admin_api: APIClient, admin_user: User
) -> None:
    response = admin_api.patch(
        f"{URL}{admin_user.pk}/", {"role": "USER"}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "self_change"
    admin_user.refresh_from_db()
    assert admin_user.role == Role.ADMIN


@pytest.mark.parametrize(
    "body", [{}, {"role": "ROOT"}, {"role": None}, {"is_active": "maybe"}]
)
def test_a_bad_update_is_a_400(admin_api: APIClient, user: User, body: dict) -> None:
    response = admin_api.patch(f"{URL}{user.pk}/", body, format="json")

    assert response.status_code == 400
    assert response.json()["type"] == "validation_error"


def test_an_unknown_user_is_a_404(admin_api: APIClient) -> None:
    assert admin_api.get(f"{URL}999999/").status_code == 404
    assert admin_api.get(f"{URL}not-a-number/").status_code == 404


def test_only_admins_reach_the_django_admin(user: User, admin_user: User) -> None:
    from django.test import Client

    browser = Client()
    browser.force_login(user)
    assert browser.get("/admin/").status_code == 302

    browser.force_login(admin_user)
    assert browser.get("/admin/").status_code == 200
    assert browser.get("/admin/accounts/user/").status_code == 200
    assert browser.get(f"/admin/accounts/user/{user.pk}/change/").status_code == 200
