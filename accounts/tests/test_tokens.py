import base64
import json
import threading
from datetime import timedelta

import jwt
import pytest
from django.conf import settings
from django.contrib.auth.hashers import BCryptSHA256PasswordHasher
from django.db import connection
from rest_framework.test import APIClient
from rest_framework_simplejwt import tokens as simplejwt_tokens
from rest_framework_simplejwt import utils as simplejwt_utils
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken

from accounts import authentication
from accounts.models import Role, User
from conftest import PASSWORD, client_for

TOKEN = "/api/v1/auth/token/"
REFRESH = "/api/v1/auth/token/refresh/"
LOGOUT = "/api/v1/auth/logout/"
ME = "/api/v1/auth/me/"

pytestmark = pytest.mark.django_db


def _login(api: APIClient, user: User) -> dict[str, str]:
    response = api.post(TOKEN, {"email": user.email, "password": PASSWORD})
    assert response.status_code == 200, response.json()
    return response.json()


def _bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def _assert_401(response, code: str) -> None:
    assert response.status_code == 401
    assert response.json() == {
        "type": "client_error",
        "errors": [
            {
                "code": code,
                "detail": response.json()["errors"][0]["detail"],
                "attr": None,
            }
        ],
    }


def test_production_hashing_is_bcrypt_sha256() -> None:
    from contestplatform.settings import base

    assert base.PASSWORD_HASHERS[0].endswith("BCryptSHA256PasswordHasher")
    hasher = BCryptSHA256PasswordHasher()
    long_password = "p" * 100 + "tail"
    encoded = hasher.encode(long_password, hasher.salt())
    assert encoded.startswith("bcrypt_sha256$")
    # Past bcrypt's 72 bytes the pre-hash still tells these apart.
    assert hasher.verify(long_password, encoded)
    assert not hasher.verify("p" * 100 + "other", encoded)


def test_an_access_token_opens_me(api: APIClient, user: User) -> None:
    pair = _login(api, user)

    response = _bearer(pair["access"]).get(ME)

    assert response.status_code == 200
    assert response.json()["email"] == user.email


def test_token_lifetimes_are_at_most_5_minutes_and_7_days() -> None:
    jwt_settings = settings.SIMPLE_JWT
    assert jwt_settings["ACCESS_TOKEN_LIFETIME"] <= timedelta(minutes=5)
    assert jwt_settings["REFRESH_TOKEN_LIFETIME"] <= timedelta(days=7)


def test_unknown_email_and_wrong_password_look_the_same(
    api: APIClient, user: User
) -> None:
    unknown = api.post(TOKEN, {"email": "nobody@example.com", "password": PASSWORD})
    wrong = api.post(TOKEN, {"email": user.email, "password": "wrong-password-x"})

    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json() == wrong.json()
    assert unknown.json()["errors"][0]["code"] == "invalid_credentials"


def test_an_inactive_user_cannot_log_in(api: APIClient, user: User) -> None:
    user.is_active = False
    user.save()

    response = api.post(TOKEN, {"email": user.email, "password": PASSWORD})

    _assert_401(response, "invalid_credentials")


def test_login_without_a_password_is_a_validation_error(api: APIClient) -> None:
    response = api.post(TOKEN, {"email": "a@example.com"})

    assert response.status_code == 400
    assert response.json()["errors"][0]["attr"] == "password"


def test_refresh_rotates_and_the_old_refresh_token_is_dead(
    api: APIClient, user: User
) -> None:
    pair = _login(api, user)

    rotated = api.post(REFRESH, {"refresh": pair["refresh"]})
    reused = api.post(REFRESH, {"refresh": pair["refresh"]})

    assert rotated.status_code == 200
    assert set(rotated.json()) == {"access", "refresh"}
    assert rotated.json()["refresh"] != pair["refresh"]
    _assert_401(reused, "token_not_valid")
    assert api.post(REFRESH, {"refresh": rotated.json()["refresh"]}).status_code == 200


def test_logout_revokes_the_refresh_token(api: APIClient, user: User) -> None:
    pair = _login(api, user)

    logout = api.post(LOGOUT, {"refresh": pair["refresh"]})
    refresh = api.post(REFRESH, {"refresh": pair["refresh"]})

    assert logout.status_code == 204
    _assert_401(refresh, "token_not_valid")


def test_refresh_for_a_deactivated_user_is_refused(api: APIClient, user: User) -> None:
    pair = _login(api, user)
    user.is_active = False
    user.save()

    response = api.post(REFRESH, {"refresh": pair["refresh"]})

    assert response.status_code == 401


@pytest.mark.django_db(transaction=True)
def test_concurrent_refreshes_of_one_token_let_one_through(user: User) -> None:
    refresh = str(RefreshToken.for_user(user))
    statuses: list[int] = []
    barrier = threading.Barrier(8)

    def attempt() -> None:
        client = APIClient()
        barrier.wait()
        statuses.append(client.post(REFRESH, {"refresh": refresh}).status_code)
        connection.close()

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [200] + [401] * 7


def _segments(token: str) -> list[str]:
    return token.split(".")


def _b64(data: dict) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _payload(token: str) -> dict:
    return jwt.decode(token, options={"verify_signature": False})


def _tampered(user: User) -> dict[str, str]:
    access = str(AccessToken.for_user(user))
    header, payload, signature = _segments(access)
    claims = _payload(access)
    key = settings.SIMPLE_JWT["SIGNING_KEY"]
    flipped = ("A" if signature[0] != "A" else "B") + signature[1:]
    expired = {**claims, "exp": claims["iat"] - 10}
    future = {**claims, "nbf": claims["iat"] + 3600}
    edited = {**claims, "user_id": "999999"}
    return {
        "altered_signature": f"{header}.{payload}.{flipped}",
        "alg_none": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{payload}.",
        "other_algorithm": jwt.encode(claims, key, algorithm="HS512"),
        "edited_payload": f"{header}.{_b64(edited)}.{signature}",
        "expired": jwt.encode(expired, key, algorithm="HS256"),
        "not_yet_valid": jwt.encode(future, key, algorithm="HS256"),
        "other_key": jwt.encode(claims, "k" * 64, algorithm="HS256"),
        "refresh_as_access": str(RefreshToken.for_user(user)),
        "malformed": "not.a.jwt",
        "two_segments": f"{header}.{payload}",
        "garbage": "%%%%",
        "empty_claims": jwt.encode({}, key, algorithm="HS256"),
    }


@pytest.mark.parametrize(
    "kind",
    [
        "altered_signature",
        "alg_none",
        "other_algorithm",
        "edited_payload",
        "expired",
        "not_yet_valid",
        "other_key",
        "refresh_as_access",
        "malformed",
        "two_segments",
        "garbage",
        "empty_claims",
    ],
)
def test_a_tampered_access_token_gets_401(user: User, kind: str) -> None:
    token = _tampered(user)[kind]

    response = _bearer(token).get(ME)

    _assert_401(response, "token_not_valid")
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("kind", ["altered_signature", "alg_none", "malformed"])
def test_a_tampered_refresh_token_gets_401(
    api: APIClient, user: User, kind: str
) -> None:
    refresh = str(RefreshToken.for_user(user))
    header, payload, signature = _segments(refresh)
    tokens = {
        "altered_signature": f"{header}.{payload}.{signature[::-1]}",
        "alg_none": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{payload}.",
        "malformed": "abc",
    }

    response = api.post(REFRESH, {"refresh": tokens[kind]})

    _assert_401(response, "token_not_valid")


def test_an_access_token_cannot_be_used_to_refresh(api: APIClient, user: User) -> None:
    response = api.post(REFRESH, {"refresh": str(AccessToken.for_user(user))})

    _assert_401(response, "token_not_valid")


def test_a_missing_token_answers_401_with_www_authenticate(api: APIClient) -> None:
    response = api.get(ME)

    _assert_401(response, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_deactivated_user_gets_401_on_the_next_request(user: User) -> None:
    client = client_for(user)
    assert client.get(ME).status_code == 200

    User.objects.filter(pk=user.pk).update(is_active=False)

    _assert_401(client.get(ME), "user_inactive")


def test_a_deleted_user_gets_401(user: User) -> None:
    client = client_for(user)
    user.delete()

    _assert_401(client.get(ME), "user_not_found")


def test_me_patch_changes_only_the_display_name(user: User) -> None:
    client = client_for(user)

    response = client.patch(
        ME,
        {"display_name": "NewName", "role": "ADMIN", "email": "x@example.com"},
        format="json",
    )

    assert response.status_code == 200
    user.refresh_from_db()
    assert user.display_name == "NewName"
    assert user.role == Role.USER
    assert user.email != "x@example.com"


def test_me_refuses_put_and_delete(user: User) -> None:
    client = client_for(user)

    assert client.put(ME, {}, format="json").status_code == 405
    assert client.delete(ME).status_code == 405


def test_a_token_accepted_before_stops_working_when_it_expires(
    user: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Verified tokens are kept per process; the expiry is still checked on
    # every request. The clock moves past the token's exp, for the kept
    # token and for SimpleJWT's own check alike.
    token = AccessToken.for_user(user)
    client = _bearer(str(token))
    assert client.get(ME).status_code == 200
    assert client.get(ME).status_code == 200

    later = (
        simplejwt_utils.aware_utcnow()
        + settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"]
        + timedelta(seconds=1)
    )
    monkeypatch.setattr(authentication, "aware_utcnow", lambda: later)
    monkeypatch.setattr(simplejwt_tokens, "aware_utcnow", lambda: later)

    _assert_401(client.get(ME), "token_not_valid")
