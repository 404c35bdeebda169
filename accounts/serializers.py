from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from .models import (
    DISPLAY_NAME_MAX_LENGTH,
    Role,
    User,
    normalize_display_name,
    normalize_email,
    validate_display_name,
)


def _check_display_name(value: str, *, exclude_pk: int | None = None) -> str:
    name = normalize_display_name(value)
    try:
        validate_display_name(name)
    except DjangoValidationError as exc:
        raise serializers.ValidationError(
            exc.messages[0], code=exc.code or "invalid"
        ) from exc
    taken = User.objects.filter(display_name__iexact=name)
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    if taken.exists():
        raise serializers.ValidationError("This display name is taken.", code="unique")
    return name


class RegisterSerializer(serializers.Serializer[User]):
    """Fields a client may send at registration; anything else is ignored."""

    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(
        write_only=True, max_length=256, trim_whitespace=False
    )
    display_name = serializers.CharField(max_length=DISPLAY_NAME_MAX_LENGTH * 2)

    def validate_email(self, value: str) -> str:
        email = normalize_email(value)
        if User.objects.filter(email=email).exists():
            raise serializers.ValidationError(
                "This email is registered.", code="unique"
            )
        return email

    def validate_display_name(self, value: str) -> str:
        return _check_display_name(value)


class UserSerializer(serializers.ModelSerializer[User]):
    class Meta:
        model = User
        fields = ["id", "email", "display_name", "role", "is_active", "date_joined"]
        read_only_fields = fields


class MeSerializer(serializers.ModelSerializer[User]):
    """The caller's own account; only the display name can change."""

    class Meta:
        model = User
        fields = ["id", "email", "display_name", "role", "date_joined"]
        read_only_fields = ["id", "email", "role", "date_joined"]
        extra_kwargs: dict[str, dict[str, Any]] = {"display_name": {"validators": []}}

    def validate_display_name(self, value: str) -> str:
        pk = self.instance.pk if self.instance else None
        return _check_display_name(value, exclude_pk=pk)


class UserAdminUpdateSerializer(serializers.Serializer[User]):
    """What an admin may change on a user: the role and the active flag."""

    role = serializers.ChoiceField(choices=Role.choices, required=False)
    is_active = serializers.BooleanField(required=False)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        if not attrs:
            raise serializers.ValidationError(
                "Send at least one of: role, is_active.", code="empty"
            )
        return attrs


class RefreshSerializer(serializers.Serializer[Any]):
    refresh = serializers.CharField(max_length=4096)


class TokenPairSerializer(serializers.Serializer[Any]):
    access = serializers.CharField()
    refresh = serializers.CharField()
