"""OpenAPI descriptions of the project's authentication classes."""

from typing import Any

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object


class UserStateJWTScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    target_class = "accounts.authentication.UserStateJWTAuthentication"
    name = "jwtAuth"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return build_bearer_security_scheme_object(
            header_name="Authorization",
            token_prefix="Bearer",  # noqa: S106 - a scheme name, not a secret
            bearer_format="JWT",
        )


class CredentialsInBodyScheme(OpenApiAuthenticationExtension):  # type: ignore[no-untyped-call]
    """Login and refresh take their credentials in the body: no scheme."""

    target_class = "accounts.authentication.CredentialsInBody"
    # A list of names, empty: no security scheme is registered for it.
    name: list[str] = []

    def get_security_requirement(self, auto_schema: Any) -> list[dict[str, Any]]:
        return []

    def get_security_definition(self, auto_schema: Any) -> list[Any]:
        return []
