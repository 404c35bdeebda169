"""Role-based permission classes, reusable by every app."""

from typing import Any, cast

from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request

from .models import Role, User


def request_is_admin(request: Request) -> bool:
    """Tell whether the request comes from an active user with the ADMIN role."""
    user = request.user
    return bool(
        user and user.is_authenticated and user.is_active and user.role == Role.ADMIN
    )


class IsAdmin(BasePermission):
    """Allow active users with the ADMIN role."""

    message = "This action needs the ADMIN role."

    def has_permission(self, request: Request, view: Any) -> bool:
        return request_is_admin(request)


class IsAdminOrReadOnly(BasePermission):
    """Allow reads to anyone, writes to admins."""

    message = "This action needs the ADMIN role."

    def has_permission(self, request: Request, view: Any) -> bool:
        return request.method in SAFE_METHODS or request_is_admin(request)


class IsActiveUser(BasePermission):
    """Allow any authenticated, active user, whatever the role."""

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.is_active)


def request_user(request: Request) -> User:
    """Return the authenticated user of a request a permission has admitted."""
    return cast(User, request.user)
