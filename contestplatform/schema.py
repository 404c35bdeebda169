"""OpenAPI: the error responses drf-standardized-errors cannot infer.

It documents 400 to 500 from what a view is configured with; 409 (a
state conflict), 413 (a body over the limit) and 503 (a backing service
down) come from the project's own exceptions, so they are added here.
"""

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
