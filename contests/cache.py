"""Contests by slug, cached in Redis between requests.

Every leaderboard read and every submission looks its contest up by slug.
Contests change rarely (an admin's edit or action, a board marked stale or
rebuilt, finalize), so one generation covers them all: any write to any
contest row (a save, a queryset update, a delete) makes every cached
contest stale at once, and the next request of each reloads it. A hit
costs one Redis round trip instead of a PostgreSQL query; unknown slugs
are not cached, so a new contest needs no invalidation.
"""

from typing import Any

from django.conf import settings
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from contestplatform.gencache import GenerationCache, row_dump, row_parse

from .models import Contest

# TODO(when a read needs one round trip less): keep a per-contest token in
# the contest's own hash slot and let the board scripts compare it with an
# in-process copy, instead of this MGET (docs/performance.md, "Leads").
_ATTNAMES = tuple(field.attname for field in Contest._meta.concrete_fields)
# One scope for all contests: a write is rare, a slug may change.
_SCOPE = "all"

_cache = GenerationCache(
    "contests", ttl=60, enabled=lambda: bool(settings.CONTEST_CACHE)
)


def contest_get_cached(*, slug: str) -> Contest | None:
    return _cache.get(  # type: ignore[no-any-return]
        _SCOPE,
        slug,
        load=lambda: Contest.objects.filter(slug=slug).first(),
        dump=lambda contest: row_dump(contest, _ATTNAMES),
        parse=lambda raw: row_parse(Contest, _ATTNAMES, raw),
    )


def contest_invalidate() -> None:
    _cache.invalidate(_SCOPE)


@receiver(post_save, sender=Contest, dispatch_uid="contests_cache_save")
@receiver(post_delete, sender=Contest, dispatch_uid="contests_cache_delete")
def _contest_changed(sender: type[Contest], **kwargs: Any) -> None:
    contest_invalidate()
