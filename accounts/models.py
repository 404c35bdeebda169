"""The user: logs in by email, shows a display name, has one role."""

import re
import unicodedata
from typing import Any, ClassVar

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

DISPLAY_NAME_MIN_LENGTH = 3
DISPLAY_NAME_MAX_LENGTH = 32
# Letters and digits of any script, with single spaces, dots, dashes and
# underscores between them; no control, format or symbol characters.
_DISPLAY_NAME_RE = re.compile(r"^[^\W_](?:[\w.-]| (?! ))*$")


class Role(models.TextChoices):
    ADMIN = "ADMIN", "Admin"
    USER = "USER", "User"


def normalize_email(email: str) -> str:
    """Return the canonical form of an email: trimmed and lower-cased."""
    return email.strip().lower()


def normalize_display_name(name: str) -> str:
    """Return the NFKC form, so look-alike spellings compare equal."""
    return unicodedata.normalize("NFKC", name).strip()


def validate_display_name(name: str) -> None:
    if not DISPLAY_NAME_MIN_LENGTH <= len(name) <= DISPLAY_NAME_MAX_LENGTH:
        raise ValidationError(
            "A display name has %(min)d to %(max)d characters.",
            code="invalid_length",
            params={"min": DISPLAY_NAME_MIN_LENGTH, "max": DISPLAY_NAME_MAX_LENGTH},
        )
    if not _DISPLAY_NAME_RE.match(name) or name.endswith(" "):
        raise ValidationError(
            "A display name starts with a letter or digit and holds only "
            "letters, digits, single spaces, '.', '-' and '_'.",
            code="invalid_characters",
        )


class UserQuerySet(models.QuerySet["User"]):
    def update(self, **kwargs: Any) -> int:
        # An update sends no post_save, but the cached user state
        # (accounts.cache) must hear of it. The ids are read first: one more
        # query, on a path nothing hot takes.
        from .cache import user_invalidate

        user_ids = list(self.values_list("pk", flat=True))
        count = super().update(**kwargs)
        user_invalidate(user_ids=user_ids)
        return count


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def get_queryset(self) -> UserQuerySet:
        return UserQuerySet(self.model, using=self._db)

    def create_user(
        self, email: str, password: str | None = None, **fields: Any
    ) -> "User":
        if not email:
            raise ValueError("A user needs an email address.")
        user = self.model(email=normalize_email(email), **fields)
        user.set_password(password)
        user.full_clean(exclude=["password"])
        user.save(using=self._db)
        return user

    def create_superuser(
        self, email: str, password: str | None = None, **fields: Any
    ) -> "User":
        fields["role"] = Role.ADMIN
        return self.create_user(email, password, **fields)

    def get_by_natural_key(self, username: str | None) -> "User":
        return self.get(email=normalize_email(username or ""))


class User(AbstractBaseUser):
    """An account. ADMIN users steer contests and may use the Django admin."""

    email = models.EmailField(max_length=254, unique=True)
    display_name = models.CharField(
        max_length=DISPLAY_NAME_MAX_LENGTH, validators=[validate_display_name]
    )
    role = models.CharField(max_length=8, choices=Role.choices, default=Role.USER)
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    objects: ClassVar[UserManager] = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = ["display_name"]

    class Meta:
        ordering = ["id"]
        constraints = [
            # Stored lower-cased already; the functional index keeps that a
            # guarantee even for rows written around the model.
            models.UniqueConstraint(Lower("email"), name="user_email_ci_unique"),
            models.UniqueConstraint(
                Lower("display_name"), name="user_display_name_ci_unique"
            ),
            models.CheckConstraint(
                condition=models.Q(role__in=Role.values), name="user_role_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.email

    def clean(self) -> None:
        super().clean()
        self.email = normalize_email(self.email)
        self.display_name = normalize_display_name(self.display_name)

    @property
    def is_admin(self) -> bool:
        return self.is_active and self.role == Role.ADMIN

    # The Django admin and its permission checks ask for these. Roles are
    # the only authorization model: an ADMIN may do everything there.
    @property
    def is_staff(self) -> bool:
        return self.is_admin

    @property
    def is_superuser(self) -> bool:
        return self.is_admin

    def has_perm(self, perm: str, obj: object = None) -> bool:
        return self.is_admin

    def has_perms(self, perm_list: Any, obj: object = None) -> bool:
        return self.is_admin

    def has_module_perms(self, app_label: str) -> bool:
        return self.is_admin
