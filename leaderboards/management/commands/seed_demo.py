"""Create demo data: accounts, contests in every state, submissions.

Idempotent: accounts and contests are found by email and slug, and a
contest that already has submissions gets no more. ``--users N
--submissions M`` also builds a large running contest with bulk inserts
and a pipelined board build.
"""

import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandParser
from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone
from psycopg import Copy
from psycopg.copy import QueuedLibpqWriter

from accounts.models import Role, User
from contests.models import Contest, Order, Scoring, Ties
from leaderboards import services
from leaderboards.models import Kind, Outcome, Submission

DEMO_ACCOUNTS = [
    ("admin@example.com", "Admin", Role.ADMIN, "demo-admin-password"),
    ("player@example.com", "Player", Role.USER, "demo-player-password"),
]
PROGRESS_EVERY = 20_000
DEMO_USER_PASSWORD = "demo-user-password"  # noqa: S105 - public demo data


@dataclass(frozen=True)
class Plan:
    slug: str
    title: str
    scoring: str
    order: str
    ties: str
    starts: timedelta
    ends: timedelta
    freeze: timedelta | None = None
    published: bool = True
    finalize: bool = False
    cancelled: bool = False
    submissions: int = 0


def _plans(submissions: int) -> list[Plan]:
    hour, day = timedelta(hours=1), timedelta(days=1)
    return [
        Plan(
            "demo-draft",
            "Draft: not published yet",
            Scoring.BEST,
            Order.DESC,
            Ties.EARLIEST,
            day,
            2 * day,
            published=False,
        ),
        Plan(
            "demo-scheduled",
            "Scheduled: starts tomorrow",
            Scoring.BEST,
            Order.DESC,
            Ties.EARLIEST,
            day,
            3 * day,
        ),
        Plan(
            "demo-running",
            "Running: best score wins",
            Scoring.BEST,
            Order.DESC,
            Ties.EARLIEST,
            -hour,
            30 * day,
            submissions=submissions,
        ),
        Plan(
            "demo-speedrun",
            "Running: lowest time wins, shared ranks",
            Scoring.BEST,
            Order.ASC,
            Ties.SHARED,
            -hour,
            30 * day,
            submissions=submissions,
        ),
        Plan(
            "demo-marathon",
            "Running: every point counts",
            Scoring.SUM,
            Order.DESC,
            Ties.EARLIEST,
            -hour,
            30 * day,
            submissions=submissions,
        ),
        Plan(
            "demo-frozen",
            "Frozen: the board shows the freeze",
            Scoring.LATEST,
            Order.DESC,
            Ties.EARLIEST,
            -2 * hour,
            30 * day,
            freeze=-hour,
            submissions=submissions,
        ),
        Plan(
            "demo-ended",
            "Ended: waiting for finalize",
            Scoring.BEST,
            Order.DESC,
            Ties.SHARED,
            -2 * day,
            -day,
            submissions=submissions,
        ),
        Plan(
            "demo-finalized",
            "Finalized: final standings",
            Scoring.BEST,
            Order.DESC,
            Ties.EARLIEST,
            -3 * day,
            -2 * day,
            finalize=True,
            submissions=submissions,
        ),
        Plan(
            "demo-cancelled",
            "Cancelled",
            Scoring.BEST,
            Order.DESC,
            Ties.EARLIEST,
            day,
            2 * day,
            cancelled=True,
        ),
    ]


class Command(BaseCommand):
    help = "Create demo accounts, contests in every state, and submissions."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--users",
            type=int,
            default=0,
            help="Also build demo-large, a running contest this many strong.",
        )
        parser.add_argument(
            "--submissions",
            type=int,
            default=0,
            help="Submissions over demo-large (default: one per participant).",
        )
        parser.add_argument(
            "--slug",
            default="demo-large",
            help="Slug of the large contest (several sizes can share the users).",
        )
        parser.add_argument("--seed", type=int, default=1, help="Random seed.")

    def handle(self, *args: Any, **options: Any) -> None:
        self.random = random.Random(options["seed"])  # noqa: S311 - demo data
        admin = self._accounts()
        demo_users = self._bulk_users("demo", 40)
        for plan in _plans(submissions=120):
            self._contest(plan, admin, demo_users)
        if options["users"] > 0:
            started = time.monotonic()
            slug = options["slug"]
            self._large(admin, slug, options["users"], options["submissions"])
            self.stdout.write(f"{slug} ready in {time.monotonic() - started:.1f}s")

    def _accounts(self) -> User:
        admin: User | None = None
        for email, name, role, password in DEMO_ACCOUNTS:
            user, created = User.objects.get_or_create(
                email=email, defaults={"display_name": name, "role": role}
            )
            if created:
                user.set_password(password)
                user.save(update_fields=["password"])
            verb = "created" if created else "kept"
            self.stdout.write(f"{verb} {role.lower()} {email} (password: {password})")
            if role == Role.ADMIN:
                admin = user
        if admin is None:
            raise RuntimeError("DEMO_ACCOUNTS lists no admin")
        return admin

    def _bulk_users(self, prefix: str, count: int) -> list[int]:
        """Create the users prefix0..prefixN-1 that are missing; return all ids.

        PostgreSQL generates the rows itself: no row crosses the wire, and
        10^6 users take seconds. A name or email taken by someone else is
        skipped, so fewer ids may come back than were asked for.
        """
        now = timezone.now()
        with connection.cursor() as cursor:
            cursor.execute(_USER_IDS_SQL, {"prefix": prefix, "count": count})
            existing = len(cursor.fetchall())
            # ON CONFLICT costs a speculative insertion per row and index;
            # a first seeding has nothing to skip and goes without it.
            sql = _USERS_SQL if existing else _USERS_SQL.replace(_SKIP_TAKEN, "")
            cursor.execute(
                sql,
                {
                    "prefix": prefix,
                    "count": count,
                    "password": self._password(),
                    "role": Role.USER.value,
                    "now": now,
                },
            )
            created = cursor.rowcount
            cursor.execute(_USER_IDS_SQL, {"prefix": prefix, "count": count})
            ids = [pk for (pk,) in cursor.fetchall()]
        self._progress("users", count, count)
        if created:
            self.stdout.write(
                f"  created {created} users {prefix}0..{prefix}{count - 1}"
            )
        return ids

    def _password(self) -> str:
        # One bcrypt hash for every generated account: hashing is slow on
        # purpose, and they all share the demo password.
        if not hasattr(self, "password"):
            self.password = make_password(DEMO_USER_PASSWORD)
        return self.password

    def _progress(self, what: str, done: int, total: int) -> None:
        if total >= PROGRESS_EVERY or done == total:
            width = 30
            filled = width * done // max(total, 1)
            bar = "#" * filled + "." * (width - filled)
            self.stdout.write(f"  {what:12} [{bar}] {done}/{total}")

    def _contest(self, plan: Plan, admin: User, user_ids: Sequence[int]) -> Contest:
        now = timezone.now()
        contest, created = Contest.objects.get_or_create(
            slug=plan.slug,
            defaults={
                "title": plan.title,
                "description": "Demo data from manage.py seed_demo.",
                "scoring": plan.scoring,
                "order": plan.order,
                "ties": plan.ties,
                "score_min": 0,
                "score_max": 1_000_000,
                "starts_at": now + plan.starts,
                "ends_at": now + plan.ends,
                "freeze_at": now + plan.freeze if plan.freeze else None,
                "published_at": now + plan.starts - timedelta(hours=1)
                if plan.published
                else None,
                "cancelled_at": now if plan.cancelled else None,
                "created_by": admin,
            },
        )
        if plan.submissions and not contest.submissions.exists():
            self._simulate(contest, user_ids, plan.submissions)
            if services.board_is_live(contest):
                services.board_rebuild(contest=contest)
        if plan.finalize:
            contest = services.contest_finalize(contest=contest)
        verb = "created" if created else "kept"
        self.stdout.write(f"{verb} contest {contest.slug} ({contest.state})")
        return contest

    def _large(self, admin: User, slug: str, users: int, submissions: int) -> None:
        ids = self._bulk_users("load", users)
        plan = Plan(
            slug,
            f"Large: {users} participants",
            Scoring.BEST,
            Order.DESC,
            Ties.EARLIEST,
            -timedelta(hours=1),
            timedelta(days=30),
            submissions=submissions or users,
        )
        contest = self._contest(plan, admin, ids)
        self.stdout.write(f"  participants {contest.entries.count()}")

    def _simulate(self, contest: Contest, user_ids: Sequence[int], count: int) -> None:
        """Write ``count`` submissions and the entries they leave, in bulk."""
        start = contest.starts_at
        end = min(contest.ends_at, timezone.now())
        span = max((end - start).total_seconds(), 1.0)
        times = sorted(
            start + timedelta(seconds=self.random.uniform(0, span))
            for _ in range(count)
        )
        # Every participant submits at least once when there are enough.
        owners = [user_ids[i % len(user_ids)] for i in range(count)]
        self.random.shuffle(owners)
        entries: dict[int, SimEntry] = {}
        submissions = (
            _simulate_one(contest, entries, owner, self.random.randint(0, 10_000), at)
            for owner, at in zip(owners, times, strict=True)
        )
        first = not contest.participants.exists()
        with transaction.atomic(), connection.cursor() as cursor:
            # Django's foreign keys are checked at the commit; checked row by
            # row instead, PostgreSQL does it while this process is still
            # generating rows, on the other core (at 10^6, a minute saved).
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            _copy(
                Submission,
                SUBMISSION_COLUMNS,
                submissions,
                lambda done: self._progress("submissions", done, count),
            )
            self._progress("submissions", count, count)
            # Each submission records the entry as it left it, so the
            # entries and who took part follow from the log, in SQL.
            cursor.execute(_ENTRIES_FROM_LOG_SQL, [contest.pk])
            self._progress("entries", cursor.rowcount, len(entries))
            participants = _PARTICIPANTS_SQL
            if first:
                participants = participants.replace(_SKIP_TAKEN, "")
            cursor.execute(participants, [start, contest.pk])


@dataclass
class SimEntry:
    """An entry kept in memory while seeding; plain, since models are slow."""

    score: int
    reached_at: datetime
    updated_at: datetime
    count: int = 0


def _simulate_one(
    contest: Contest,
    entries: dict[int, SimEntry],
    user_id: int,
    score: int,
    moment: datetime,
) -> tuple[Any, ...]:
    """Apply a score to an entry the way the submit statement does.

    Returns the Submission row, in SUBMISSION_COLUMNS order.
    """
    entry = entries.get(user_id)
    previous: int | None = None
    if entry is None:
        entry = entries[user_id] = SimEntry(score, moment, moment)
        changed = True
    else:
        previous = entry.score
        new = _combine(contest, entry.score, score)
        changed = new != entry.score
        entry.score = new
    if changed:
        entry.reached_at = moment
    entry.count += 1
    entry.updated_at = moment
    better = previous is None or (
        entry.score > previous
        if contest.order == Order.DESC
        else entry.score < previous
    )
    return (
        contest.pk,
        user_id,
        Kind.SCORE.value,
        score,
        moment,
        _outcome(contest, changed),
        entry.count,
        entry.score,
        entry.reached_at,
        better,
        "",
    )


def _combine(contest: Contest, current: int, score: int) -> int:
    if contest.scoring == Scoring.SUM:
        return current + score
    if contest.scoring == Scoring.LATEST:
        return score
    return max(current, score) if contest.order == Order.DESC else min(current, score)


def _outcome(contest: Contest, changed: bool) -> str:
    if contest.scoring == Scoring.SUM:
        return Outcome.ADDED
    if not changed:
        return Outcome.NO_IMPROVEMENT
    return Outcome.REPLACED if contest.scoring == Scoring.LATEST else Outcome.NEW_BEST


SUBMISSION_COLUMNS = [
    "contest_id",
    "user_id",
    "kind",
    "score",
    "created_at",
    "outcome",
    "entry_version",
    "entry_score",
    "entry_reached_at",
    "new_best",
    "reason",
]


_USERS_SQL = """
INSERT INTO accounts_user
    (email, display_name, role, password, is_active, date_joined, updated_at)
SELECT %(prefix)s || n || '@example.com', %(prefix)s || '-' || n, %(role)s,
       %(password)s, TRUE, %(now)s, %(now)s
FROM generate_series(0, %(count)s - 1) AS n
ON CONFLICT DO NOTHING
"""
_SKIP_TAKEN = "ON CONFLICT DO NOTHING"
# The ids of prefix0..prefixN-1, in that order.
_USER_IDS_SQL = """
SELECT u.id
FROM generate_series(0, %(count)s - 1) AS n
JOIN accounts_user u ON u.email = %(prefix)s || n || '@example.com'
ORDER BY n
"""
_ENTRIES_FROM_LOG_SQL = """
INSERT INTO leaderboards_entry
    (contest_id, user_id, score, reached_at, submission_count, version, hidden,
     updated_at)
SELECT DISTINCT ON (user_id)
       contest_id, user_id, entry_score, entry_reached_at, entry_version,
       entry_version, FALSE, created_at
FROM leaderboards_submission
WHERE contest_id = %s
ORDER BY user_id, entry_version DESC
"""
_PARTICIPANTS_SQL = """
INSERT INTO contests_participation (contest_id, user_id, joined_at)
SELECT contest_id, user_id, %s FROM leaderboards_entry WHERE contest_id = %s
ON CONFLICT DO NOTHING
"""


def _copy(
    model: type[Model],
    columns: list[str],
    rows: Iterable[tuple[Any, ...]],
    progress: Callable[[int], None] | None = None,
) -> None:
    """Load rows with COPY: an order of magnitude faster than INSERTs."""
    table = model._meta.db_table
    statement = f"COPY {table} ({', '.join(columns)}) FROM STDIN"
    with connection.cursor() as cursor:
        raw = cursor.cursor
        # A writer thread sends while this one formats the next rows.
        with raw.copy(statement, writer=QueuedLibpqWriter(raw)) as copy:
            _write_rows(copy, rows, progress)


def _write_rows(
    copy: Copy,
    rows: Iterable[tuple[Any, ...]],
    progress: Callable[[int], None] | None,
) -> None:
    for done, row in enumerate(rows, 1):
        copy.write_row(row)
        if progress is not None and done % PROGRESS_EVERY == 0:
            progress(done)
