"""The authenticated user's state, cached in Redis between requests.

Every API request authenticates a JWT and needs the user's role and active
flag, which must never come from the token. Loading them from PostgreSQL
cost a query per request; this cache costs one Redis round trip instead,
and any write to the user row (a save, a queryset update, a delete)
replaces the user's generation, so a demoted or deactivated user loses
access at the very next request (``contestplatform.gencache``).

The cached row holds no secret and no address: the password hash,
``last_login`` and the email stay in PostgreSQL and load on first access
(``/auth/me`` pays one query for the email).
"""

from typing import Any

from django.conf import settings
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from contestplatform.gencache import GenerationCache, row_dump, row_parse

from .models import User

# In the model's field order, as row_parse wants.
CACHED_FIELDS = ("id", "display_name", "role", "is_active", "date_joined", "updated_at")

_cache = GenerationCache(
    "user", ttl=60, enabled=lambda: bool(settings.USER_STATE_CACHE)
)


def user_get_cached(*, user_id: int) -> User | None:
    """Return the user with the cached fields loaded, or None if there is none."""
    return _cache.get(  # type: ignore[no-any-return]
        str(user_id),
        "row",
        load=lambda: User.objects.filter(pk=user_id).only(*CACHED_FIELDS).first(),
        dump=lambda user: row_dump(user, CACHED_FIELDS),
        parse=lambda raw: row_parse(User, CACHED_FIELDS, raw),
    )


def user_invalidate(*, user_ids: list[int]) -> None:
    for user_id in user_ids:
        _cache.invalidate(str(user_id))


@receiver(post_save, sender=User, dispatch_uid="accounts_cache_save")
@receiver(post_delete, sender=User, dispatch_uid="accounts_cache_delete")
def _user_changed(sender: type[User], instance: User, **kwargs: Any) -> None:
    user_invalidate(user_ids=[instance.pk])
