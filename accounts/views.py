"""HTTP endpoints of the accounts app: auth under /auth/, admin /users/."""

import hashlib
import logging
from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import AuthenticationFailed, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer

from contestplatform.logging import client_address
from ratelimit.throttles import (
    AdminWriteThrottle,
    LoginIPThrottle,
    LoginThrottle,
    ReadThrottle,
    RefreshThrottle,
    RegisterThrottle,
    UserWriteThrottle,
)

from . import selectors, services
from .authentication import CredentialsInBody
from .models import Role, User
from .permissions import IsActiveUser, IsAdmin, request_user
from .serializers import (
    MeSerializer,
    RefreshSerializer,
    RegisterSerializer,
    TokenPairSerializer,
    UserAdminUpdateSerializer,
    UserSerializer,
)

audit = logging.getLogger("contestplatform.audit")


def _email_fingerprint(email: Any) -> str:
    # Enough to correlate repeated failures for one account without
    # writing addresses (or passwords typed into the email box) to logs.
    text = str(email or "").strip().lower()
    return hashlib.sha256(text.encode()).hexdigest()[:12]


class RegisterView(APIView):
    authentication_classes = [CredentialsInBody]
    permission_classes = [AllowAny]
    throttle_classes = [RegisterThrottle]

    @extend_schema(request=RegisterSerializer, responses={201: UserSerializer})
    def post(self, request: Request) -> Response:
        serializer = RegisterSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = services.user_register(**serializer.validated_data)
        return Response(UserSerializer(user).data, status=status.HTTP_201_CREATED)


class TokenObtainView(APIView):
    """Exchange email and password for an access and a refresh token."""

    authentication_classes = [CredentialsInBody]
    permission_classes = [AllowAny]
    # The address bucket first: it is charged even when the body is bad.
    throttle_classes = [LoginIPThrottle, LoginThrottle]

    @extend_schema(request=TokenObtainPairSerializer, responses=TokenPairSerializer)
    def post(self, request: Request) -> Response:
        serializer = TokenObtainPairSerializer(
            data=request.data, context={"request": request}
        )
        try:
            serializer.is_valid(raise_exception=True)
        except AuthenticationFailed:
            self._audit(request, outcome="failure")
            # Unknown email, wrong password and inactive account all answer
            # the same, so the endpoint does not reveal who has an account.
            raise AuthenticationFailed(
                "No active account matches these credentials.",
                code="invalid_credentials",
            ) from None
        user = serializer.user
        self._audit(request, outcome="success", user_id=user.pk if user else None)
        return Response(serializer.validated_data)

    def _audit(
        self, request: Request, *, outcome: str, user_id: int | None = None
    ) -> None:
        data = request.data if isinstance(request.data, dict) else {}
        audit.info(
            "login %s",
            outcome,
            extra={
                "event": "login",
                "outcome": outcome,
                "user_id": user_id,
                "email_fp": _email_fingerprint(data.get("email")),
                "client": client_address(request),
            },
        )


class TokenRefreshView(APIView):
    """Rotate a refresh token: the old one is revoked, a new pair returned."""

    authentication_classes = [CredentialsInBody]
    permission_classes = [AllowAny]
    throttle_classes = [RefreshThrottle]

    @extend_schema(request=RefreshSerializer, responses=TokenPairSerializer)
    def post(self, request: Request) -> Response:
        serializer = RefreshSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        pair = services.token_refresh(raw=serializer.validated_data["refresh"])
        return Response(pair)


class LogoutView(APIView):
    """Revoke a refresh token. Access tokens expire on their own."""

    authentication_classes = [CredentialsInBody]
    permission_classes = [AllowAny]
    # Shares the refresh budget: both present one refresh token.
    throttle_classes = [RefreshThrottle]

    @extend_schema(request=RefreshSerializer, responses={204: None})
    def post(self, request: Request) -> Response:
        serializer = RefreshSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.token_revoke(raw=serializer.validated_data["refresh"])
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    permission_classes = [IsActiveUser]
    throttle_classes = [ReadThrottle, UserWriteThrottle]
    http_method_names = ["get", "patch", "head", "options"]

    @extend_schema(responses=MeSerializer)
    def get(self, request: Request) -> Response:
        return Response(MeSerializer(request_user(request)).data)

    @extend_schema(request=MeSerializer, responses=MeSerializer)
    def patch(self, request: Request) -> Response:
        user = request_user(request)
        serializer = MeSerializer(user, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        if "display_name" in serializer.validated_data:
            user = services.user_update_profile(
                user=user, display_name=serializer.validated_data["display_name"]
            )
        return Response(MeSerializer(user).data)


@extend_schema(
    parameters=[
        OpenApiParameter("search", str, description="Part of an email or name."),
        OpenApiParameter("role", str, enum=["ADMIN", "USER"]),
        OpenApiParameter("is_active", bool),
    ]
)
class UserViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet[User],
):
    """Admin-only user management: list, read, change role, deactivate."""

    permission_classes = [IsAdmin]
    throttle_classes = [ReadThrottle, AdminWriteThrottle]
    serializer_class = UserSerializer

    def get_queryset(self) -> QuerySet[User]:
        params = self.request.query_params
        is_active = params.get("is_active")
        # PostgreSQL text cannot hold NUL: sent on to the query, it raised
        # there and answered 500.
        if "\x00" in params.get("search", ""):
            raise ValidationError(
                {"search": ["NUL characters are not allowed."]}, code="null_characters"
            )
        if params.get("role", "") not in ("", *Role.values):
            raise ValidationError(
                {"role": [f"Choose one of {', '.join(Role.values)}."]}, code="invalid"
            )
        if is_active is not None and is_active.lower() not in ("true", "false"):
            raise ValidationError(
                {"is_active": ["Choose true or false."]}, code="invalid"
            )
        return selectors.user_list(
            search=params.get("search", "")[:100],
            role=params.get("role", ""),
            is_active=None if is_active is None else is_active.lower() == "true",
        )

    @extend_schema(request=UserAdminUpdateSerializer, responses=UserSerializer)
    def partial_update(self, request: Request, pk: str | None = None) -> Response:
        user = self.get_object()
        serializer = UserAdminUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        actor = request_user(request)
        if "role" in serializer.validated_data:
            user = services.user_set_role(
                actor=actor,
                user=user,
                role=serializer.validated_data["role"],
            )
        if "is_active" in serializer.validated_data:
            user = services.user_set_active(
                actor=actor,
                user=user,
                is_active=serializer.validated_data["is_active"],
            )
        return Response(UserSerializer(user).data)
