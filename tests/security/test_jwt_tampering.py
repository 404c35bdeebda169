"""Bad tokens on every operation of the schema: 401 in the shape, never more.

accounts/tests/test_tokens.py tries a dozen kinds on /auth/me/; here the
full battery (tokens.KINDS) goes to every operation the schema lists,
public reads included, and bad refresh tokens to refresh and logout.
"""

import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from accounts.models import User
from conftest import PASSWORD
from leaderboards.models import Submission
from tests.security.tokens import KINDS, tampered
from tests.security.world import OPERATIONS, World, call, make_world
from tests.support import is_error_shape

pytestmark = pytest.mark.django_db

BEARER = [op for op in OPERATIONS if op.bearer]
REFRESH = "/api/v1/auth/token/refresh/"
LOGOUT = "/api/v1/auth/logout/"
BODY_TOKEN = [REFRESH, LOGOUT]
SIGNED_WITHOUT_ACCOUNT = {"missing_user_id", "unknown_user"}


@pytest.fixture
def world() -> World:
    return make_world()


def _bad_access_tokens(user: User) -> dict[str, str]:
    access = str(AccessToken.for_user(user))
    return tampered(access, wrong_purpose=str(RefreshToken.for_user(user)))


def test_the_battery_covers_every_kind(world: World) -> None:
    assert set(_bad_access_tokens(world.admin)) == set(KINDS)


@pytest.mark.parametrize("operation", BEARER, ids=str)
def test_a_tampered_bearer_token_gets_401_on_every_operation(
    world: World, operation
) -> None:
    # Forged from an admin's token: a token that slipped through would
    # open every operation, so nothing but a 401 can hide behind a 403.
    tokens = _bad_access_tokens(world.admin)
    url = world.url(operation)
    before = Submission.objects.count()
    wrong = {}

    for kind, token in tokens.items():
        client = APIClient(raise_request_exception=False)
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        response = call(client, operation, url)
        body = response.json()
        if not (
            response.status_code == 401
            and is_error_shape(body)
            and response["WWW-Authenticate"].startswith("Bearer")
        ):
            wrong[kind] = (response.status_code, body)

    assert wrong == {}
    assert Submission.objects.count() == before


@pytest.mark.parametrize("url", BODY_TOKEN)
def test_a_tampered_refresh_token_in_the_body_gets_401(
    world: World, api: APIClient, url: str
) -> None:
    refresh = str(RefreshToken.for_user(world.player))
    tokens = tampered(refresh, wrong_purpose=str(AccessToken.for_user(world.player)))
    wrong = {}

    for kind, token in tokens.items():
        response = api.post(url, {"refresh": token}, format="json")
        status = response.status_code
        if url == LOGOUT and kind in SIGNED_WITHOUT_ACCOUNT and status == 204:
            # Well signed by the project with the genuine jti: logout needs
            # no account, only a token it issued, so revoking it is right.
            continue
        expected = 400 if kind in ("empty", "huge") else 401
        if status != expected or not is_error_shape(response.json()):
            wrong[kind] = (status, response.json())

    assert wrong == {}
    if url == REFRESH:
        # Nothing was revoked: the genuine token still rotates.
        assert api.post(REFRESH, {"refresh": refresh}).status_code == 200


def test_a_bad_bearer_token_does_not_get_in_the_way_of_logging_in(
    world: World,
) -> None:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer not.a.jwt")

    response = client.post(
        "/api/v1/auth/token/",
        {"email": world.player.email, "password": PASSWORD},
        format="json",
    )

    assert response.status_code == 200
    assert set(response.json()) == {"access", "refresh"}
