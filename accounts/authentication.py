"""JWT authentication that reads the user's state from the database.

The role and the active flag are never taken from the token: each request
looks the user up, so a demoted or deactivated user loses access at the
next request. The look-up goes through ``accounts.cache``: one Redis round
trip while nothing changed, PostgreSQL after any write to the user.
"""

from typing import Any

from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import Token

from .cache import user_get_cached
from .models import User


class UserStateJWTAuthentication(JWTAuthentication):
    www_authenticate_realm = "api"

    def authenticate(self, request: Request) -> tuple[Any, Token] | None:
        try:
            return super().authenticate(request)
        except InvalidToken as exc:
            # SimpleJWT explains each token class it tried in a nested
            # "messages" list; clients need one code, not the internals.
            raise AuthenticationFailed(
                "The access token is invalid or expired.", code="token_not_valid"
            ) from exc

    def get_user(self, validated_token: Token) -> User:  # type: ignore[override]
        """Return the token's user, refusing one that is gone or inactive.

        SimpleJWT's CHECK_REVOKE_TOKEN stays off: it compares a hash of the
        password, which the cache deliberately leaves out.
        """
        try:
            user_id = int(validated_token[api_settings.USER_ID_CLAIM])
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidToken("The token names no user.") from exc
        user = user_get_cached(user_id=user_id)
        if user is None:
            raise AuthenticationFailed("User not found", code="user_not_found")
        if not user.is_active:
            raise AuthenticationFailed("User is inactive", code="user_inactive")
        return user


class CredentialsInBody(BaseAuthentication):
    """For endpoints whose credentials travel in the body (login, refresh).

    It authenticates nobody, so a stale access token in the header cannot
    break a login, but it names the scheme, so failures answer 401 with
    ``WWW-Authenticate`` instead of DRF's fallback 403.
    """

    def authenticate(self, request: Request) -> None:
        return None

    def authenticate_header(self, request: Request) -> str:
        return 'Bearer realm="api"'
