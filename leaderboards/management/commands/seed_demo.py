"""Create demo data for local use; safe to run again and again."""

from typing import Any

from django.core.management.base import BaseCommand
from django.db import transaction

from accounts.models import Role, User

DEMO_ACCOUNTS = [
    ("admin@example.com", "Admin", Role.ADMIN, "demo-admin-password"),
    ("player@example.com", "Player", Role.USER, "demo-player-password"),
]


class Command(BaseCommand):
    help = "Create the demo admin and user (idempotent)."

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            for email, name, role, password in DEMO_ACCOUNTS:
                self._ensure_user(email, name, role, password)

    def _ensure_user(self, email: str, name: str, role: str, password: str) -> None:
        user, created = User.objects.get_or_create(
            email=email, defaults={"display_name": name, "role": role}
        )
        if created:
            user.set_password(password)
            user.save(update_fields=["password"])
        verb = "created" if created else "kept"
        self.stdout.write(f"{verb} {role.lower()} {email} (password: {password})")
