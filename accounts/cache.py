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
from django.db import connection
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from contestplatform.gencache import GenerationCache, row_dump, row_parse

from .models import User

# In the model's field order, as row_parse wants.
CACHED_FIELDS = ("id", "display_name", "role", "is_active", "date_joined", "updated_at")

_cache = GenerationCache(
    "user", ttl=60, enabled=lambda: bool(settings.USER_STATE_CACHE)
)


# Plain SQL for a miss: compiling the equivalent ORM query cost several
# times the CPU of PostgreSQL's answer, on every first request of a user.
_COLUMNS = {f.attname: str(f.column) for f in User._meta.concrete_fields}
_LOAD_SQL = "SELECT {columns} FROM {table} WHERE {pk} = %s".format(  # noqa: S608
    columns=", ".join(_COLUMNS[name] for name in CACHED_FIELDS),
    table=User._meta.db_table,
    pk=_COLUMNS["id"],
)


def _load(user_id: int) -> User | None:
    with connection.cursor() as cursor:
        cursor.execute(_LOAD_SQL, [user_id])
        row = cursor.fetchone()
    return None if row is None else User.from_db("default", CACHED_FIELDS, row)


def user_get_cached(*, user_id: int) -> User | None:
    """Return the user with the cached fields loaded, or None if there is none."""
    return _cache.get(  # type: ignore[no-any-return]
        str(user_id),
        "row",
        load=lambda: _load(user_id),
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
