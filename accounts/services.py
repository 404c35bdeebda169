"""Writes of the accounts app: registration, profile, roles, tokens."""

import logging

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from rest_framework.exceptions import (
    AuthenticationFailed,
    ErrorDetail,
    ValidationError,
)
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.token_blacklist.models import (
    BlacklistedToken,
    OutstandingToken,
)
from rest_framework_simplejwt.tokens import RefreshToken

from .models import Role, User, normalize_display_name, normalize_email

logger = logging.getLogger(__name__)


def _unique_violation(exc: IntegrityError) -> ValidationError:
    text = str(exc)
    if "display_name" in text:
        return ValidationError(
            {"display_name": ["This display name is taken."]}, code="unique"
        )
    return ValidationError({"email": ["This email is registered."]}, code="unique")


def user_register(*, email: str, password: str, display_name: str) -> User:
    """Create a USER account; the role is never the client's to choose."""
    user = User(
        email=normalize_email(email),
        display_name=normalize_display_name(display_name),
        role=Role.USER,
    )
    try:
        validate_password(password, user=user)
    except DjangoValidationError as exc:
        details = [
            ErrorDetail(str(message), code=error.code or "invalid")
            for error in exc.error_list
            for message in error.messages
        ]
        raise ValidationError({"password": details}) from exc
    user.set_password(password)
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:
        # Two registrations of one email or name can pass the serializer's
        # check at once; the database constraint decides, the loser gets 400.
        raise _unique_violation(exc) from exc
    logger.info("account registered", extra={"event": "register", "user_id": user.pk})
    return user


def user_update_profile(*, user: User, display_name: str) -> User:
    user.display_name = normalize_display_name(display_name)
    try:
        with transaction.atomic():
            user.save(update_fields=["display_name", "updated_at"])
    except IntegrityError as exc:
        raise _unique_violation(exc) from exc
    return user


def _refuse_self_change(*, actor: User, user: User) -> None:
    if actor.pk == user.pk:
        # An admin who demotes or deactivates themselves can lock everyone
        # out of the API; another admin has to do it.
        raise ValidationError(
            "Admins cannot change their own role or active flag.",
            code="self_change",
        )


def user_set_role(*, actor: User, user: User, role: str) -> User:
    _refuse_self_change(actor=actor, user=user)
    user.role = role
    user.save(update_fields=["role", "updated_at"])
    logger.info(
        "role changed",
        extra={
            "event": "role_change",
            "actor_id": actor.pk,
            "user_id": user.pk,
            "role": role,
        },
    )
    return user


def user_set_active(*, actor: User, user: User, is_active: bool) -> User:
    _refuse_self_change(actor=actor, user=user)
    with transaction.atomic():
        user.is_active = is_active
        user.save(update_fields=["is_active", "updated_at"])
        if not is_active:
            _blacklist_all_refresh_tokens(user)
    logger.info(
        "active flag changed",
        extra={
            "event": "active_change",
            "actor_id": actor.pk,
            "user_id": user.pk,
            "is_active": is_active,
        },
    )
    return user


def _blacklist_all_refresh_tokens(user: User) -> None:
    outstanding = OutstandingToken.objects.filter(user=user).exclude(
        blacklistedtoken__isnull=False
    )
    BlacklistedToken.objects.bulk_create(
        [BlacklistedToken(token=token) for token in outstanding],
        ignore_conflicts=True,
    )


def _parse_refresh(raw: str) -> RefreshToken:
    try:
        return RefreshToken(raw)  # type: ignore[arg-type]
    # SimpleJWT's blacklist check reads the jti claim without looking: a
    # well-signed token that lacks it raises KeyError, not TokenError.
    except (TokenError, KeyError) as exc:
        raise AuthenticationFailed(
            "The refresh token is invalid, expired or revoked.",
            code="token_not_valid",
        ) from exc


def _consume(refresh: RefreshToken) -> None:
    """Blacklist a refresh token, failing if another request already did.

    The row lock on the outstanding token serializes concurrent uses of one
    refresh token, so at most one of them succeeds.
    """
    jti = refresh[jwt_settings.JTI_CLAIM]
    outstanding = (
        OutstandingToken.objects.select_for_update(of=("self",)).filter(jti=jti).first()
    )
    if (
        outstanding is None
        or BlacklistedToken.objects.filter(token=outstanding).exists()
    ):
        raise AuthenticationFailed(
            "The refresh token is invalid, expired or revoked.",
            code="token_not_valid",
        )
    BlacklistedToken.objects.create(token=outstanding)


def token_refresh(*, raw: str) -> dict[str, str]:
    """Rotate a refresh token: revoke it and issue a new pair."""
    refresh = _parse_refresh(raw)
    user_id = str(refresh.payload.get(jwt_settings.USER_ID_CLAIM, ""))
    # A claim that is no id (absent, or not a number) matches no account;
    # handed to the query as it is, it would raise and answer 500.
    user = (
        User.objects.filter(pk=int(user_id), is_active=True).first()
        if user_id.isdecimal()
        else None
    )
    if user is None:
        raise AuthenticationFailed(
            "No active account found for the given token.", code="no_active_account"
        )
    with transaction.atomic():
        _consume(refresh)
        new = RefreshToken.for_user(user)
    return {"access": str(new.access_token), "refresh": str(new)}


def token_revoke(*, raw: str) -> None:
    """Blacklist a refresh token (logout)."""
    refresh = _parse_refresh(raw)
    with transaction.atomic():
        _consume(refresh)
    logger.info(
        "logout",
        extra={"event": "logout", "user_id": refresh.payload.get("user_id")},
    )
