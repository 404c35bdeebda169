import pytest
from rest_framework.test import APIClient

from accounts.models import Role, User

URL = "/api/v1/auth/register/"
GOOD = {
    "email": "Ada@Example.COM",
    "password": "analytical-engine-1843",
    "display_name": "Ada",
}

pytestmark = pytest.mark.django_db


def _codes(response) -> dict[str | None, str]:
    assert response.json()["type"] == "validation_error"
    return {error["attr"]: error["code"] for error in response.json()["errors"]}


def test_it_registers_a_user_with_a_normalized_email(api: APIClient) -> None:
    response = api.post(URL, GOOD, format="json")

    assert response.status_code == 201
    body = response.json()
    assert body["email"] == "ada@example.com"
    assert body["role"] == "USER"
    assert "password" not in body
    user = User.objects.get(email="ada@example.com")
    assert user.password.startswith("md5$")  # the test hasher; bcrypt in base
    assert user.check_password(GOOD["password"])


def test_it_ignores_a_requested_admin_role_or_staff_flag(api: APIClient) -> None:
    body = {**GOOD, "role": "ADMIN", "is_staff": True, "is_superuser": True}

    response = api.post(URL, body, format="json")

    assert response.status_code == 201
    assert response.json()["role"] == "USER"
    user = User.objects.get()
    assert user.role == Role.USER
    assert not user.is_staff
    assert not user.is_superuser


def test_it_refuses_an_email_registered_in_another_case(api: APIClient) -> None:
    api.post(URL, GOOD, format="json")

    again = {**GOOD, "email": "ADA@example.com", "display_name": "Ada2"}
    response = api.post(URL, again, format="json")

    assert response.status_code == 400
    assert _codes(response) == {"email": "unique"}
    assert User.objects.count() == 1


def test_it_refuses_a_display_name_taken_in_another_case(api: APIClient) -> None:
    api.post(URL, GOOD, format="json")

    again = {**GOOD, "email": "other@example.com", "display_name": "ADA"}
    response = api.post(URL, again, format="json")

    assert response.status_code == 400
    assert _codes(response) == {"display_name": "unique"}


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("email", "not-an-email", "invalid"),
        ("email", "", "blank"),
        ("password", "short", "password_too_short"),
        ("password", "password123", "password_too_common"),
        ("password", "8432957203945", "password_entirely_numeric"),
        ("display_name", "ab", "invalid_length"),
        ("display_name", "x" * 33, "invalid_length"),
        ("display_name", "bad<name>", "invalid_characters"),
        ("display_name", "two  spaces", "invalid_characters"),
        ("display_name", "zero\u200bwidth", "invalid_characters"),
        ("display_name", "_leading", "invalid_characters"),
        ("email", 12345, "invalid"),
        ("display_name", ["list"], "invalid"),
        ("password", None, "null"),
    ],
)
def test_it_refuses_a_bad_field(api: APIClient, field: str, value, code: str) -> None:
    response = api.post(URL, {**GOOD, field: value}, format="json")

    assert response.status_code == 400
    codes = _codes(response)
    assert field in codes
    assert code in {e["code"] for e in response.json()["errors"] if e["attr"] == field}
    assert not User.objects.exists()


@pytest.mark.parametrize("missing", ["email", "password", "display_name"])
def test_it_names_each_missing_field(api: APIClient, missing: str) -> None:
    body = {key: value for key, value in GOOD.items() if key != missing}

    response = api.post(URL, body, format="json")

    assert response.status_code == 400
    assert _codes(response) == {missing: "required"}


def test_it_accepts_unicode_display_names(api: APIClient) -> None:
    body = {**GOOD, "display_name": "Zoë Łukasz-José"}

    response = api.post(URL, body, format="json")

    assert response.status_code == 201
    assert response.json()["display_name"] == "Zoë Łukasz-José"


def test_it_refuses_an_oversized_body(api: APIClient, settings) -> None:
    body = {**GOOD, "padding": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)}

    response = api.post(URL, body, format="json")

    assert response.status_code == 413
    assert response.json()["errors"][0]["code"] == "payload_too_large"
    assert not User.objects.exists()


def test_it_refuses_a_body_that_is_not_an_object(api: APIClient) -> None:
    response = api.post(URL, ["a", "list"], format="json")

    assert response.status_code == 400
    assert response.json()["type"] == "validation_error"


def test_a_registered_user_can_log_in(api: APIClient) -> None:
    api.post(URL, GOOD, format="json")

    response = api.post(
        "/api/v1/auth/token/",
        {"email": "ADA@example.com", "password": GOOD["password"]},
        format="json",
    )

    assert response.status_code == 200
    assert set(response.json()) == {"access", "refresh"}
