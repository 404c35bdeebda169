"""Reads of the leaderboards: which board a viewer sees, and its rows.

Where a read comes from:
- a finalized contest: the Standing rows in PostgreSQL;
- a frozen contest, for the public: the frozen Redis board;
- otherwise the live Redis board, rebuilt first if it is missing or marked
  stale; while another request rebuilds it, while Redis cannot be reached,
  or once its keys have expired after the retention, the Entry rows ranked
  by PostgreSQL.
The frozen board has no such fallback: with Redis down it answers 503.
A partial board is never presented as complete.
"""

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import QuerySet
from redis.exceptions import RedisError

from contestplatform.exceptions import ServiceUnavailable
from contestplatform.logging import Every
from contests.models import Contest, State

from . import board, services
from .models import Entry, Standing, Submission

logger = logging.getLogger(__name__)
# One warning per interval while Redis is down, not one per read.
_outage_log = Every(30.0)
# What a reader of the frozen board is told to wait while Redis is down.
FROZEN_RETRY_AFTER = 5


@dataclass(frozen=True)
class Viewer:
    user_id: int | None
    is_admin: bool
    # An admin asking for the live board: past the freeze, hidden included.
    live: bool = False


@dataclass(frozen=True)
class Source:
    kind: str  # "standings" | "frozen" | "live" | "entries"
    everyone: bool  # hidden participants included


def _source(contest: Contest, viewer: Viewer) -> Source:
    everyone = viewer.is_admin and viewer.live
    if contest.finalized_at is not None:
        return Source("standings", everyone)
    if not services.board_is_live(contest):
        return Source("entries", everyone)
    if contest.state == State.FROZEN and not everyone:
        return Source("frozen", False)
    return Source("live", everyone)


def _from_live[T](contest: Contest, read: Callable[[], T | None]) -> T | None:
    """Read the live board, rebuilding it first if it is missing or stale.

    Every board script answers "missing" itself, so a healthy board costs
    one round trip. None means: read PostgreSQL instead.
    """
    try:
        if contest.board_stale_since is None:
            found = read()
            if found is not None:
                return found
        if services.board_rebuild(contest=contest):
            return read()
    except RedisError as exc:
        _warn_outage(contest, exc)
    return None


def _warn_outage(contest: Contest, exc: RedisError) -> None:
    if _outage_log.due():
        logger.warning(
            "Redis unavailable: leaderboards read from PostgreSQL",
            extra={"contest": contest.slug},
            exc_info=exc,
        )


def _from_frozen[T](contest: Contest, read: Callable[[], T | None]) -> T | None:
    """Read the frozen board, building it first; 503 while Redis is down."""
    try:
        _ready_frozen(contest)
        return read()
    except RedisError as exc:
        _warn_outage(contest, exc)
        raise ServiceUnavailable(
            "The frozen leaderboard is unavailable; retry shortly.",
            code="board_unavailable",
            wait=FROZEN_RETRY_AFTER,
        ) from None


FROZEN_BUILD_WAIT = 3.0  # seconds a read waits for another's frozen build


def _ready_frozen(contest: Contest) -> None:
    if board.is_built(contest, frozen=True):
        return
    if services.frozen_rebuild(contest=contest):
        return
    # Another request is building it, in well under a second for 10^5
    # participants: waiting for it beats failing the read.
    deadline = time.monotonic() + FROZEN_BUILD_WAIT
    while time.monotonic() < deadline:
        time.sleep(0.05)
        if board.is_built(contest, frozen=True):
            return
    raise ServiceUnavailable(
        "The frozen leaderboard is being prepared; retry shortly.",
        code="board_rebuilding",
        wait=1,
    )


def leaderboard_page(
    *, contest: Contest, viewer: Viewer, offset: int, limit: int
) -> board.Page:
    source = _source(contest, viewer)
    if source.kind == "frozen":
        found = _from_frozen(
            contest,
            lambda: board.page(contest, offset=offset, limit=limit, frozen=True),
        )
        if found is not None:
            return found
    if source.kind == "live":
        found = _from_live(
            contest,
            lambda: board.page(
                contest, offset=offset, limit=limit, everyone=source.everyone
            ),
        )
        if found is not None:
            return found
    if source.kind == "standings":
        return _standings_page(contest, source.everyone, offset, limit)
    return _entries_page(contest, source.everyone, offset, limit)


def leaderboard_users(
    *, contest: Contest, viewer: Viewer, user_ids: Sequence[int]
) -> board.Page:
    source = _source(contest, viewer)
    if source.kind == "frozen":
        found = _from_frozen(
            contest, lambda: board.users(contest, user_ids=user_ids, frozen=True)
        )
        if found is not None:
            return found
    if source.kind == "live":
        found = _from_live(
            contest,
            lambda: board.users(contest, user_ids=user_ids, everyone=source.everyone),
        )
        if found is not None:
            return found
    if source.kind == "standings":
        return _standings_page(contest, source.everyone, 0, None, user_ids=user_ids)
    return _entries_page(contest, source.everyone, 0, None, user_ids=user_ids)


@dataclass(frozen=True)
class Mine:
    rank: int | None
    score: int | None
    reached_at: object
    total: int
    neighbours: list[board.Row]
    frozen: bool


def leaderboard_me(*, contest: Contest, viewer: Viewer, neighbours: int) -> Mine:
    """The viewer's own rank and score, with neighbours above and below.

    During the freeze a participant still sees their own live rank and
    score, but no neighbours: those would show others' live scores.
    """
    if viewer.user_id is None:
        raise ValueError("leaderboard_me needs an authenticated viewer")
    source = _source(contest, viewer)
    frozen_public = source.kind == "frozen"
    k = 0 if frozen_public else neighbours
    found: board.Around | None = None
    user_id = viewer.user_id
    if source.kind in ("live", "frozen"):
        found = _from_live(
            contest,
            lambda: board.around(
                contest, user_id=user_id, neighbours=k, everyone=source.everyone
            ),
        )
    if found is None:
        found = _entries_around(contest, source, viewer.user_id, k)
    own = next((row for row in found.rows if row.user_id == viewer.user_id), None)
    rows = [] if frozen_public else found.rows
    if own is None:
        score, reached_at = _own_entry(contest, viewer.user_id)
        return Mine(None, score, reached_at, found.total, rows, frozen_public)
    return Mine(own.rank, own.score, own.reached_at, found.total, rows, frozen_public)


def _own_entry(contest: Contest, user_id: int) -> tuple[int | None, object]:
    entry = Entry.objects.filter(contest=contest, user_id=user_id).first()
    if entry is None:
        return None, None
    return entry.score, entry.reached_at


def _entries_around(
    contest: Contest, source: Source, user_id: int, k: int
) -> board.Around:
    if source.kind == "standings":
        mine = Standing.objects.filter(contest=contest, user_id=user_id).first()
        position = (mine.rank or 0) - 1 if mine else None
        loader = _standings_page
    else:
        position = _entry_position(contest, source.everyone, user_id)
        loader = _entries_page
    if position is None or position < 0:
        total = loader(contest, source.everyone, 0, 0).total
        return board.Around(total=total, rank=None, rows=[])
    low = max(0, position - k)
    found = loader(contest, source.everyone, low, position + k + 1 - low)
    own = next((row for row in found.rows if row.user_id == user_id), None)
    return board.Around(
        total=found.total, rank=own.rank if own else None, rows=found.rows
    )


def _ranked_entries_sql(contest: Contest, everyone: bool) -> str:
    hidden = "" if everyone else "AND NOT e.hidden"
    return f"""
        SELECT e.user_id, e.score, e.reached_at, u.display_name,
               {services.rank_function(contest)} OVER (
                   ORDER BY {services.rank_order(contest, "e.")}) AS rank,
               ROW_NUMBER() OVER (
                   ORDER BY {services.board_order(contest, "e.")}) AS position
        FROM leaderboards_entry e JOIN accounts_user u ON u.id = e.user_id
        WHERE e.contest_id = %s {hidden}
    """  # noqa: S608 - only fixed fragments are interpolated


def _entry_position(contest: Contest, everyone: bool, user_id: int) -> int | None:
    ranked = _ranked_entries_sql(contest, everyone)
    sql = f"SELECT position FROM ({ranked}) r WHERE user_id = %s"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [contest.pk, user_id])
        found = cursor.fetchone()
    return int(found[0]) - 1 if found else None


def _entries_page(
    contest: Contest,
    everyone: bool,
    offset: int,
    limit: int | None,
    *,
    user_ids: Sequence[int] | None = None,
) -> board.Page:
    """Rank the Entry rows in PostgreSQL (the fallback when Redis cannot)."""
    ranked = _ranked_entries_sql(contest, everyone)
    params: list[Any] = [contest.pk]
    where = ""
    if user_ids is not None:
        where = "WHERE user_id = ANY(%s)"
        params.append(list(user_ids))
    sql = (
        "SELECT user_id, score, reached_at, display_name, rank "  # noqa: S608
        f"FROM ({ranked}) r {where} ORDER BY position OFFSET %s LIMIT %s"
    )
    params += [offset, limit]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = [
            board.Row(user_id, score, reached_at, int(rank), name)
            for user_id, score, reached_at, name, rank in cursor.fetchall()
        ]
    entries = Entry.objects.filter(contest=contest)
    if not everyone:
        entries = entries.filter(hidden=False)
    return board.Page(total=entries.count(), rows=rows)


def _standings_page(
    contest: Contest,
    everyone: bool,
    offset: int,
    limit: int | None,
    *,
    user_ids: Sequence[int] | None = None,
) -> board.Page:
    standings = Standing.objects.filter(contest=contest).select_related("user")
    if not everyone:
        standings = standings.filter(hidden=False)
    if user_ids is not None:
        standings = standings.filter(user_id__in=user_ids)
    total = standings.count() if user_ids is None else _public_total(contest, everyone)
    ordered = standings.order_by("rank", "reached_at", "user_id")
    window = ordered[offset:] if limit is None else ordered[offset : offset + limit]
    rows = [
        board.Row(s.user_id, s.score, s.reached_at, s.rank or 0, s.user.display_name)
        for s in window
    ]
    return board.Page(total=total, rows=rows)


def _public_total(contest: Contest, everyone: bool) -> int:
    standings = Standing.objects.filter(contest=contest)
    return (standings if everyone else standings.filter(hidden=False)).count()


def submission_list(*, contest: Contest, user_id: int | None) -> QuerySet[Submission]:
    submissions = Submission.objects.filter(contest=contest)
    if user_id is not None:
        submissions = submissions.filter(user_id=user_id)
    return submissions.order_by("-id")
