"""OpenAPI: the error responses drf-standardized-errors cannot infer.

It documents 400 to 500 from what a view is configured with; 409 (a
state conflict), 413 (a body over the limit) and 503 (a backing service
down) come from the project's own exceptions, so they are added here.
"""

import json
import re
from typing import Any

from drf_spectacular.utils import extend_schema_serializer
from drf_standardized_errors.openapi import AutoSchema as StandardizedAutoSchema
from drf_standardized_errors.openapi_serializers import ClientErrorEnum, ServerErrorEnum
from rest_framework import serializers

WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}


class _Error(serializers.Serializer[object]):
    code = serializers.CharField(help_text="Machine-readable, e.g. invalid_transition.")
    detail = serializers.CharField()
    attr = serializers.CharField(allow_null=True)


@extend_schema_serializer(component_name="ErrorResponse409")
class ErrorResponse409Serializer(serializers.Serializer[object]):
    type = serializers.ChoiceField(choices=ClientErrorEnum.choices)
    errors = _Error(many=True)  # type: ignore[assignment]


@extend_schema_serializer(component_name="ErrorResponse413")
class ErrorResponse413Serializer(serializers.Serializer[object]):
    type = serializers.ChoiceField(choices=ClientErrorEnum.choices)
    errors = _Error(many=True)  # type: ignore[assignment]


@extend_schema_serializer(component_name="ErrorResponse503")
class ErrorResponse503Serializer(serializers.Serializer[object]):
    type = serializers.ChoiceField(choices=ServerErrorEnum.choices)
    errors = _Error(many=True)  # type: ignore[assignment]


class AutoSchema(StandardizedAutoSchema):
    def _should_add_error_response(
        self, responses: dict[str, object], status_code: str
    ) -> bool:
        if status_code == "403" and getattr(self.view, "may_forbid", False):
            return status_code not in responses
        if status_code == "401" and status_code not in responses:
            return bool(
                super()._should_add_error_response(responses, status_code)
                or self._names_an_auth_scheme()
            )
        if status_code not in ("409", "413", "503"):
            return bool(super()._should_add_error_response(responses, status_code))
        if status_code in responses:
            return False
        if status_code == "503":
            # Any operation reads PostgreSQL or Redis, and either may be down.
            return True
        if self.method not in WRITE_METHODS:
            return False
        if status_code == "413":
            return True
        return bool(getattr(self.view, "may_conflict", False))

    def _is_list_view(self, serializer: Any = None) -> bool:
        # A viewset's "list" action may answer one object (a leaderboard
        # page with its count and rows), which the view says.
        if getattr(self.view, "list_answers_one_object", False):
            return False
        return bool(super()._is_list_view(serializer))

    def _names_an_auth_scheme(self) -> bool:
        # DRF answers 401, not 403, when the first authenticator names a
        # scheme. Login, refresh and logout carry their credentials in the
        # body (accounts.authentication.CredentialsInBody): the schema
        # lists no security scheme for them, but they do answer 401.
        authenticators = self.view.get_authenticators()
        return bool(
            authenticators and authenticators[0].authenticate_header(self.view.request)
        )


ERROR_ITEM = "Error"
OPEN_VALIDATION_ERROR = "ValidationErrorResponse"
_STATUS_ERROR = re.compile(r"Error\d{3}|ParseError")


def open_error_codes(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """Postprocessing hook: error codes and error fields are open sets.

    drf-standardized-errors lists, per status and per field, the codes
    DRF itself raises; the project raises its own as well
    (``contest_not_found``, ``token_not_valid``, ``invalid_length``...)
    and validates query parameters and headers, so a listed enum would
    call correct answers invalid. Error items keep ``code``, ``detail``
    and ``attr``, the codes DRF knows stay in the description, and every
    400 may be a validation error.
    """
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas[ERROR_ITEM] = {
        "type": "object",
        "properties": {
            "code": {"type": "string", "description": "Machine-readable."},
            "detail": {"type": "string"},
            "attr": {"type": "string", "nullable": True},
        },
        "required": ["attr", "code", "detail"],
    }
    schemas[OPEN_VALIDATION_ERROR] = {
        "type": "object",
        "properties": {
            "type": {"$ref": "#/components/schemas/ValidationErrorEnum"},
            "errors": {"type": "array", "items": _ref(ERROR_ITEM)},
        },
        "required": ["errors", "type"],
    }
    for name, component in schemas.items():
        if _STATUS_ERROR.fullmatch(name):
            _open_code(schemas, component)
        elif name.endswith("ValidationError"):
            component["properties"]["errors"]["items"] = _ref(ERROR_ITEM)
        elif name.endswith("ErrorResponse400"):
            mapping = component.get("discriminator", {}).get("mapping", {})
            if "validation_error" not in mapping:
                component["oneOf"].append(_ref(OPEN_VALIDATION_ERROR))
                mapping["validation_error"] = _ref(OPEN_VALIDATION_ERROR)["$ref"]
    _drop_unreferenced(result)
    return result


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _open_code(schemas: dict[str, Any], component: dict[str, Any]) -> None:
    code = component["properties"]["code"]
    enum = schemas.get(code.get("$ref", "").rsplit("/", 1)[-1], code)
    known = ", ".join(f"`{value}`" for value in enum.get("enum", []))
    component["properties"]["code"] = {
        "type": "string",
        "description": f"Machine-readable; DRF's own: {known}." if known else "",
    }


def _drop_unreferenced(result: dict[str, Any]) -> None:
    schemas = result["components"]["schemas"]
    while True:
        # Lazy translations in descriptions are no JSON; str() them.
        text = json.dumps(result, default=str)
        unused = [
            name
            for name in schemas
            if f'"#/components/schemas/{name}"' not in text
            and ("Error" in name or name.endswith("CodeEnum"))
        ]
        if not unused:
            return
        for name in unused:
            del schemas[name]
