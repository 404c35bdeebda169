"""JWT authentication that reads the user's state from the database.

The role and the active flag are never taken from the token: each request
loads the user, so a demoted or deactivated user loses access at once.
"""

from typing import Any

from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.tokens import Token


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
