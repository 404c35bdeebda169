"""JWT authentication that reads the user's state from the database.

The role and the active flag are never taken from the token: each request
looks the user up, so a demoted or deactivated user loses access at the
next request. The look-up goes through ``accounts.cache``: one Redis round
trip while nothing changed, PostgreSQL after any write to the user.
"""

from datetime import datetime
from typing import Any

from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import InvalidToken
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.tokens import Token
from rest_framework_simplejwt.utils import aware_utcnow, datetime_from_epoch

from contestplatform.memo import Memo

from .cache import user_get_cached
from .models import User

# Access tokens already verified by this process, by their exact bytes,
# with the moment each expires. PyJWT's checks of one token (base64
# segment by segment, the signature) cost about a tenth of a submission's
# CPU, and a client sends the same token with every request for its whole
# lifetime. An access token cannot be revoked before it expires (logout
# blacklists refresh tokens), and the user's state is still read on every
# request, so a kept token accepts exactly what verifying it again would.
# About 1 KB each.
_verified: Memo[bytes, tuple[datetime, Token]] = Memo(16_384)


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

    def get_validated_token(self, raw_token: bytes) -> Token:
        kept = _verified.get(raw_token)
        if kept is not None:
            expires, token = kept
            if aware_utcnow() < expires:
                return token
            _verified.discard(raw_token)  # verifying again explains why
        token = super().get_validated_token(raw_token)
        exp = token.payload.get("exp")
        if isinstance(exp, int | float):
            leeway = token.get_token_backend().get_leeway()
            _verified.put(raw_token, (datetime_from_epoch(exp) + leeway, token))
        return token

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
