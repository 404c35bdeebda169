"""Reads of the accounts app."""

from django.db.models import Q, QuerySet

from .models import User


def user_list(
    *, search: str = "", role: str = "", is_active: bool | None = None
) -> QuerySet[User]:
    users = User.objects.all()
    if search:
        users = users.filter(
            Q(email__icontains=search) | Q(display_name__icontains=search)
        )
    if role:
        users = users.filter(role=role)
    if is_active is not None:
        users = users.filter(is_active=is_active)
    return users.order_by("id")
