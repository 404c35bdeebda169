"""Writes of the leaderboards: submissions, adjustments, boards, finalize.

The order of every write is PostgreSQL first, Redis after the commit
(DESIGN.md section 6). A Redis failure after the commit never fails the
request: the contest is marked stale and the next request that needs the
board rebuilds it from the Entry rows.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NoReturn

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from redis.exceptions import RedisError
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError

from accounts.models import User
from contestplatform.exceptions import Conflict
from contestplatform.memo import Memo
from contests.models import MAX_EXACT_SCORE, Contest, Order, Scoring, State, Ties
from contests.selectors import participation_exists
from contests.services import advisory_xact_lock, participation_ensure

from . import board
from .models import Entry, Kind, Outcome, Submission

logger = logging.getLogger(__name__)
audit = logging.getLogger("contestplatform.audit")

# Submissions hold this lock shared, finalize holds it exclusively: a
# submission that passed its checks always commits before the standings
# are read, and none passes after.
SUBMIT_LOCK = 1002
# Entries updated this close to a rebuild's start are applied again after
# the swap, for transactions that committed while the rebuild read.
REBUILD_CATCH_UP = timedelta(seconds=5)


@dataclass(frozen=True)
class SubmitResult:
    submission: Submission
    rank: int | None
    replayed: bool


def _new_score_sql(contest: Contest) -> str:
    if contest.scoring == Scoring.SUM:
        return "e.score + %(score)s"
    if contest.scoring == Scoring.LATEST:
        return "%(score)s"
    return (
        "GREATEST(e.score, %(score)s)"
        if contest.order == Order.DESC
        else ("LEAST(e.score, %(score)s)")
    )


def _guard_sql(contest: Contest) -> str:
    guards = ["TRUE"]
    if contest.max_submissions_per_user is not None:
        guards.append("e.submission_count < %(cap)s")
    if contest.scoring == Scoring.SUM:
        guards.append("abs(e.score + %(score)s) <= %(max_exact)s")
    return " AND ".join(guards)


def _outcome_sql(contest: Contest) -> str:
    if contest.scoring == Scoring.SUM:
        return "'added'"
    changed = "replaced" if contest.scoring == Scoring.LATEST else "new_best"
    return (
        f"CASE WHEN entry.reached_at = %(now)s THEN '{changed}' "
        "ELSE 'no_improvement' END"
    )


# The shared side of SUBMIT_LOCK, sent ahead of the submit statement.
_LOCK_SQL = f"SELECT pg_advisory_xact_lock_shared({SUBMIT_LOCK}, %(contest)s);\n"

# One statement: check the contest is open, lock and upsert the entry,
# append the submission with the entry as it left it. Nothing is written
# when the contest is closed or a guard (attempts, total) refuses.
_SUBMIT_SQL = """
WITH contest_open AS (
    SELECT 1 FROM contests_contest
    WHERE id = %(contest)s AND published_at IS NOT NULL
      AND cancelled_at IS NULL AND finalized_at IS NULL
      AND starts_at <= %(now)s AND ends_at > %(now)s
),
previous AS (
    SELECT score FROM leaderboards_entry
    WHERE contest_id = %(contest)s AND user_id = %(user)s
    FOR UPDATE
),
entry AS (
    INSERT INTO leaderboards_entry AS e
        (contest_id, user_id, score, reached_at, submission_count, version,
         hidden, updated_at)
    SELECT %(contest)s, %(user)s, %(score)s, %(now)s, 1, 1, FALSE, %(now)s
    -- Joining "previous" reads (and locks) the old row before the upsert.
    FROM contest_open LEFT JOIN previous ON TRUE
    ON CONFLICT (contest_id, user_id) DO UPDATE SET
        score = {new},
        reached_at = CASE WHEN {new} <> e.score THEN %(now)s ELSE e.reached_at END,
        submission_count = e.submission_count + 1,
        version = e.version + 1,
        updated_at = %(now)s
    WHERE {guard}
    RETURNING e.score, e.reached_at, e.version, e.hidden
)
INSERT INTO leaderboards_submission
    (contest_id, user_id, kind, score, created_at, idempotency_key, outcome,
     client_ip, entry_version, entry_score, entry_reached_at, new_best, reason)
SELECT %(contest)s, %(user)s, 'score', %(score)s, %(now)s, %(key)s, {outcome},
       %(ip)s, entry.version, entry.score, entry.reached_at,
       COALESCE(entry.score {better} (SELECT score FROM previous), TRUE), ''
FROM entry
RETURNING id, outcome, entry_version, entry_score, entry_reached_at, new_best,
          (SELECT hidden FROM entry)
"""


def submission_create(
    *,
    contest: Contest,
    user: User,
    score: int,
    idempotency_key: str | None = None,
    client_ip: str | None = None,
) -> SubmitResult:
    """Accept a score: durable in PostgreSQL, then placed on the board."""
    if idempotency_key is not None:
        earlier = _earlier_submission(contest, user, idempotency_key)
        if earlier is not None:
            return _replay(earlier, score)
    _check_can_submit(contest, user)
    if not contest.score_min <= score <= contest.score_max:
        bounds = f"between {contest.score_min} and {contest.score_max}"
        raise ValidationError(
            {"score": [f"The score must lie {bounds}."]}, code="out_of_bounds"
        )
    now = timezone.now()
    try:
        if connection.in_atomic_block:
            # Inside a caller's transaction: a savepoint, so a duplicate
            # key leaves that transaction usable for the replay below.
            with transaction.atomic():
                row = _write_submission(
                    contest, user, score, idempotency_key, client_ip, now
                )
        else:
            row = _write_submission(
                contest, user, score, idempotency_key, client_ip, now
            )
    except IntegrityError:
        # The same key arrived twice at once; the first one's transaction won.
        earlier = _earlier_submission(contest, user, idempotency_key or "")
        if earlier is None:
            raise
        return _replay(earlier, score)
    if row is None:
        _explain_refusal(contest, user)
    submission, hidden = row
    audit.info(
        "submission accepted",
        extra={
            "event": "submission",
            "contest": contest.slug,
            "user_id": user.pk,
            "score": score,
            "outcome": submission.outcome,
            "submission_id": submission.pk,
        },
    )
    rank = _after_commit(contest, user, submission, hidden=hidden)
    if idempotency_key is not None and rank is not None:
        Submission.objects.filter(pk=submission.pk).update(rank_answered=rank)
        submission.rank_answered = rank
    return SubmitResult(submission=submission, rank=rank, replayed=False)


def _check_can_submit(contest: Contest, user: User) -> None:
    state = contest.state
    if state not in (State.RUNNING, State.FROZEN):
        raise Conflict(
            f"The contest is {state}; it accepts submissions only while running.",
            code="contest_not_running",
        )
    if contest.join_required:
        if not participation_exists(contest_id=contest.pk, user_id=user.pk):
            raise PermissionDenied(
                "Join the contest before submitting.", code="not_joined"
            )
    else:
        _ensure_participation(contest, user)


# Open, uncapped contests refuse nobody, so once a process has seen a user
# take part, asking PostgreSQL again on every submission (a query each)
# buys nothing. Bounded per process; a participation row an admin deletes
# from such a contest comes back when the process has forgotten the user.
_known_participants: Memo[tuple[int, int], bool] = Memo(200_000)


def _ensure_participation(contest: Contest, user: User) -> None:
    key = (contest.pk, user.pk)
    if key in _known_participants:
        return
    if not participation_exists(contest_id=contest.pk, user_id=user.pk):
        participation_ensure(contest=contest, user=user)
    if contest.max_participants is None:
        _known_participants.put(key, True)


def _write_submission(
    contest: Contest,
    user: User,
    score: int,
    idempotency_key: str | None,
    client_ip: str | None,
    now: datetime,
) -> tuple[Submission, bool] | None:
    """Take the finalize lock and run the submit statement; None if nothing
    was written.

    Both go to PostgreSQL as one message of two statements (Django's
    client-side parameter binding allows it). Outside a transaction,
    PostgreSQL runs such a message as one transaction of its own: the
    shared lock is held until it commits, and the second statement, under
    READ COMMITTED, takes its snapshot after the lock is granted, so a
    finalize that committed meanwhile is seen. One round trip instead of
    four (BEGIN, the lock, the statement, COMMIT).
    """
    sql = _SUBMIT_SQL.format(
        new=_new_score_sql(contest),
        guard=_guard_sql(contest),
        outcome=_outcome_sql(contest),
        better=">" if contest.order == Order.DESC else "<",
    )
    params: dict[str, Any] = {
        "contest": contest.pk,
        "user": user.pk,
        "score": score,
        "now": now,
        "key": idempotency_key,
        "ip": client_ip,
        "cap": contest.max_submissions_per_user,
        "max_exact": MAX_EXACT_SCORE,
    }
    with connection.cursor() as cursor:
        cursor.execute(_LOCK_SQL + sql, params)
        cursor.nextset()  # past the lock's result, to the submission's
        found = cursor.fetchone()
    if found is None:
        return None
    pk, outcome, version, entry_score, reached_at, new_best, hidden = found
    submission = Submission(
        pk=pk,
        contest=contest,
        user=user,
        kind=Kind.SCORE,
        score=score,
        created_at=now,
        idempotency_key=idempotency_key,
        outcome=outcome,
        client_ip=client_ip,
        entry_version=version,
        entry_score=entry_score,
        entry_reached_at=reached_at,
        new_best=new_best,
    )
    return submission, bool(hidden)


def _explain_refusal(contest: Contest, user: User) -> NoReturn:
    contest.refresh_from_db()
    state = contest.state
    if state not in (State.RUNNING, State.FROZEN):
        raise Conflict(
            f"The contest is {state}; it accepts submissions only while running.",
            code="contest_not_running",
        )
    entry = Entry.objects.filter(contest=contest, user=user).first()
    cap = contest.max_submissions_per_user
    if entry is not None and cap is not None and entry.submission_count >= cap:
        raise Conflict(
            f"You have used all {cap} submissions of this contest.",
            code="attempts_exhausted",
        )
    raise Conflict(
        "This score would take your total beyond what the board can hold exactly.",
        code="total_out_of_range",
    )


def _earlier_submission(contest: Contest, user: User, key: str) -> Submission | None:
    return Submission.objects.filter(
        contest=contest, user=user, idempotency_key=key
    ).first()


def _replay(earlier: Submission, score: int) -> SubmitResult:
    if earlier.score != score:
        raise Conflict(
            "This Idempotency-Key was used for another score.",
            code="idempotency_key_reused",
        )
    return SubmitResult(submission=earlier, rank=earlier.rank_answered, replayed=True)


def _board_entry(
    contest: Contest, user: User, submission: Submission, *, hidden: bool
) -> board.BoardEntry:
    return board.BoardEntry(
        user_id=user.pk,
        score=submission.entry_score,
        reached_at=submission.entry_reached_at,
        version=submission.entry_version,
        hidden=hidden,
        display_name=user.display_name,
    )


def _after_commit(
    contest: Contest, user: User, submission: Submission, *, hidden: bool
) -> int | None:
    """Place the committed entry on the board and return the public rank."""
    entry = _board_entry(contest, user, submission, hidden=hidden)
    try:
        if (
            contest.freeze_at
            and submission.created_at < contest.freeze_at <= timezone.now()
        ):
            # Committed after the freeze with a time before it: the frozen
            # board may have been built without it.
            board.drop_frozen(contest)
        applied = board.apply(contest, entry)
        if applied.status == -1:
            board_repair(contest=contest)
            applied = board.apply(contest, entry)
    except RedisError:
        logger.warning(
            "board update failed after commit; marked for repair",
            extra={"contest": contest.slug, "user_id": user.pk},
            exc_info=True,
        )
        board_mark_stale(contest=contest)
        return None
    return applied.rank


def board_mark_stale(*, contest: Contest) -> None:
    Contest.objects.filter(pk=contest.pk, board_stale_since__isnull=True).update(
        board_stale_since=timezone.now()
    )


def board_is_live(contest: Contest) -> bool:
    """Tell whether the contest's Redis board should exist at all now."""
    return not contest.finalized_at and timezone.now() < contest.board_expires_at


_ENTRIES_SQL = """
SELECT e.user_id, e.score, e.reached_at, e.version, e.hidden, u.display_name
FROM leaderboards_entry e JOIN accounts_user u ON u.id = e.user_id
WHERE e.contest_id = %s
"""


def board_rebuild(*, contest: Contest) -> bool:
    """Rebuild the live board from the Entry rows; False if another holds the lock."""
    if not board_is_live(contest):
        return False
    lock = board.Lock(board.Keys.of(contest.pk).lock)
    if not lock.acquire():
        return False
    try:
        started = timezone.now()
        count = board.write_board_query(contest, _ENTRIES_SQL, [contest.pk])
        late = Entry.objects.filter(
            contest=contest, updated_at__gte=started - REBUILD_CATCH_UP
        ).select_related("user")
        for entry in late:
            board.apply(contest, _entry_to_board(entry))
        Contest.objects.filter(pk=contest.pk, board_stale_since__lte=started).update(
            board_stale_since=None
        )
    finally:
        lock.release()
    logger.info("board rebuilt", extra={"contest": contest.slug, "entries": count})
    # Streams start their subscribers over from the rebuilt board.
    publish_quietly(contest, {"type": "reset"})
    return True


def _entry_to_board(entry: Entry) -> board.BoardEntry:
    return board.BoardEntry(
        user_id=entry.user_id,
        score=entry.score,
        reached_at=entry.reached_at,
        version=entry.version,
        hidden=entry.hidden,
        display_name=entry.user.display_name,
    )


def board_repair(*, contest: Contest) -> bool:
    """Rebuild a missing or stale board, or leave it marked if busy."""
    if board_rebuild(contest=contest):
        return True
    board_mark_stale(contest=contest)
    return False


_FROZEN_SQL = """
SELECT DISTINCT ON (s.user_id)
       s.user_id, s.entry_score, s.entry_reached_at, s.entry_version, e.hidden,
       u.display_name
FROM leaderboards_submission s
JOIN leaderboards_entry e ON e.contest_id = s.contest_id AND e.user_id = s.user_id
JOIN accounts_user u ON u.id = s.user_id
WHERE s.contest_id = %s AND s.created_at < %s
ORDER BY s.user_id, s.entry_version DESC
"""


def frozen_rebuild(*, contest: Contest) -> bool:
    """Build the public board as it stood at the freeze, from the log."""
    if contest.freeze_at is None or not board_is_live(contest):
        return False
    lock = board.Lock(board.Keys.of(contest.pk).frozen_lock)
    if not lock.acquire():
        return False
    try:
        board.write_board_query(
            contest, _FROZEN_SQL, [contest.pk, contest.freeze_at], frozen=True
        )
    finally:
        lock.release()
    return True


_STANDINGS_SQL = """
INSERT INTO leaderboards_standing (contest_id, user_id, rank, score, reached_at, hidden)
SELECT contest_id, user_id,
       CASE WHEN hidden THEN NULL
            ELSE {rank} OVER (PARTITION BY hidden ORDER BY {rank_order}) END,
       score, reached_at, hidden
FROM leaderboards_entry
WHERE contest_id = %s
"""


def rank_function(contest: Contest) -> str:
    """The SQL window function that ranks like the contest's ``ties``."""
    return "RANK()" if contest.ties == Ties.SHARED else "ROW_NUMBER()"


def order_direction(contest: Contest) -> str:
    return "DESC" if contest.order == Order.DESC else "ASC"


def board_order(contest: Contest, alias: str = "") -> str:
    """SQL ORDER BY terms for the board's order: score, then time, then id."""
    direction = order_direction(contest)
    return f"{alias}score {direction}, {alias}reached_at, {alias}user_id"


def rank_order(contest: Contest, alias: str = "") -> str:
    """ORDER BY terms for the rank: under shared ties only the score counts."""
    if contest.ties == Ties.SHARED:
        return f"{alias}score {order_direction(contest)}"
    return board_order(contest, alias)


def contest_finalize(*, contest: Contest) -> Contest:
    """Write the final standings of an ended contest; idempotent.

    The exclusive advisory lock waits for submissions in flight; the row
    lock makes a second finalize, even a concurrent one, a no-op.
    """
    with transaction.atomic():
        advisory_xact_lock(SUBMIT_LOCK, contest.pk)
        contest = Contest.objects.select_for_update().get(pk=contest.pk)
        if contest.finalized_at is not None:
            return contest
        state = contest.state
        if state != State.ENDED:
            raise Conflict(
                f"Only an ended contest can be finalized; this one is {state}.",
                code="invalid_transition",
            )
        sql = _STANDINGS_SQL.format(
            rank=rank_function(contest), rank_order=rank_order(contest)
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [contest.pk])
            written = cursor.rowcount
        contest.finalized_at = timezone.now()
        contest.save(update_fields=["finalized_at", "updated_at"])
    logger.info(
        "contest finalized", extra={"contest": contest.slug, "standings": written}
    )
    publish_quietly(contest, {"type": "final"})
    return contest


def publish_quietly(contest: Contest, event: dict[str, Any]) -> None:
    """Tell the live streams; they also learn it on reconnect if this fails."""
    try:
        board.publish(contest, event)
    except RedisError:
        logger.warning(
            "could not publish a %s event",
            event.get("type"),
            extra={"contest": contest.slug},
        )


def _entry_for_moderation(contest: Contest, user_id: int) -> Entry:
    if contest.finalized_at is not None:
        raise Conflict("The results are final.", code="contest_finalized")
    entry = (
        Entry.objects.select_related("user")
        .filter(contest=contest, user_id=user_id)
        .first()
    )
    if entry is None:
        raise NotFound("This user has no entry in the contest.", code="no_entry")
    return entry


def entry_set_hidden(
    *, contest: Contest, user_id: int, hidden: bool, actor: User
) -> Entry:
    """Hide a participant from the public board (or show them again)."""
    with transaction.atomic():
        entry = _entry_for_moderation(contest, user_id)
        Entry.objects.filter(pk=entry.pk).update(
            hidden=hidden, version=entry.version + 1, updated_at=timezone.now()
        )
        entry.refresh_from_db()
    audit.info(
        "participant %s",
        "hidden" if hidden else "unhidden",
        extra={
            "event": "hide" if hidden else "unhide",
            "contest": contest.slug,
            "user_id": user_id,
            "actor_id": actor.pk,
        },
    )
    _sync_entry(contest, entry)
    return entry


def entry_adjust(
    *, contest: Contest, user_id: int, delta: int, reason: str, actor: User
) -> Submission:
    """Add an award (or, negative, a penalty) to a participant's score."""
    if contest.state not in (State.RUNNING, State.FROZEN, State.ENDED):
        raise Conflict(
            f"Scores of a {contest.state} contest cannot be adjusted.",
            code="invalid_transition",
        )
    now = timezone.now()
    with transaction.atomic():
        entry = _entry_for_moderation(contest, user_id)
        entry = (
            Entry.objects.select_for_update().select_related("user").get(pk=entry.pk)
        )
        total = entry.score + delta
        if abs(total) > MAX_EXACT_SCORE:
            raise ValidationError(
                {"delta": ["The adjusted total would not be exact on the board."]},
                code="out_of_range",
            )
        if delta != 0:
            entry.score = total
            entry.reached_at = now
        entry.version += 1
        entry.updated_at = now
        entry.save(update_fields=["score", "reached_at", "version", "updated_at"])
        submission = Submission.objects.create(
            contest=contest,
            user_id=user_id,
            kind=Kind.ADJUSTMENT,
            score=delta,
            created_at=now,
            outcome=Outcome.ADJUSTED,
            entry_version=entry.version,
            entry_score=entry.score,
            entry_reached_at=entry.reached_at,
            created_by=actor,
            reason=reason,
        )
    audit.info(
        "score adjusted",
        extra={
            "event": "adjust",
            "contest": contest.slug,
            "user_id": user_id,
            "actor_id": actor.pk,
            "delta": delta,
            "submission_id": submission.pk,
        },
    )
    _sync_entry(contest, entry)
    return submission


def _sync_entry(contest: Contest, entry: Entry) -> None:
    """Push a moderated entry to the boards after its commit."""
    if not board_is_live(contest):
        return
    try:
        board.drop_frozen(contest)
        if board.apply(contest, _entry_to_board(entry)).status == -1:
            board_repair(contest=contest)
    except RedisError:
        logger.warning(
            "board update failed after moderation; marked for repair",
            extra={"contest": contest.slug, "user_id": entry.user_id},
            exc_info=True,
        )
        board_mark_stale(contest=contest)
