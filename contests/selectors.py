"""Reads of the contests app."""

from django.db import connection
from django.db.models import Q, QuerySet
from django.utils import timezone

from .cache import contest_get_cached
from .models import Contest, Participation, State


def contest_list(*, include_drafts: bool, state: str = "") -> QuerySet[Contest]:
    contests = Contest.objects.all()
    if not include_drafts:
        contests = contests.filter(published_at__isnull=False)
    if state:
        contests = contests.filter(_state_filter(State(state)))
    return contests.order_by("-starts_at", "id")


def _state_filter(state: State) -> Q:
    """Express ``Contest.state_at(now)`` as a query, state by state."""
    now = timezone.now()
    open_ = Q(cancelled_at__isnull=True, finalized_at__isnull=True)
    live = open_ & Q(published_at__isnull=False)
    if state == State.CANCELLED:
        return Q(cancelled_at__isnull=False)
    if state == State.FINALIZED:
        return Q(cancelled_at__isnull=True, finalized_at__isnull=False)
    if state == State.DRAFT:
        return open_ & Q(published_at__isnull=True)
    if state == State.SCHEDULED:
        return live & Q(starts_at__gt=now)
    if state == State.ENDED:
        return live & Q(ends_at__lte=now)
    running = live & Q(starts_at__lte=now, ends_at__gt=now)
    frozen = Q(freeze_at__isnull=False, freeze_at__lte=now)
    if state == State.FROZEN:
        return running & frozen
    return running & ~frozen


def contest_get(*, slug: str) -> Contest | None:
    """Return the contest with this slug, from the cache (contests.cache)."""
    return contest_get_cached(slug=slug)


# Plain SQL: on the submission path, compiling the ORM query took more CPU
# than PostgreSQL took to answer it.
_PARTICIPATION_SQL = (
    "SELECT 1 FROM {table} WHERE {contest} = %s AND {user} = %s".format(  # noqa: S608
        table=Participation._meta.db_table,
        contest=Participation._meta.get_field("contest").column,
        user=Participation._meta.get_field("user").column,
    )
)


def participation_exists(*, contest_id: int, user_id: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute(_PARTICIPATION_SQL, [contest_id, user_id])
        return cursor.fetchone() is not None
