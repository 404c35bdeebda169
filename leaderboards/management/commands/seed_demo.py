"""Create demo data: accounts, contests in every state, submissions.

Idempotent: accounts and contests are found by email and slug, and a
contest that already has submissions gets no more. ``--users N
--submissions M`` also builds a large running contest with bulk inserts
and a pipelined board build.
"""

import random
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.hashers import make_password
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from django.utils import timezone

from accounts.models import Role, User
from contests.models import Contest, Order, Participation, Scoring, Ties
from leaderboards import services
from leaderboards.models import Entry, Kind, Outcome, Submission

DEMO_ACCOUNTS = [
    ("admin@example.com", "Admin", Role.ADMIN, "demo-admin-password"),
    ("player@example.com", "Player", Role.USER, "demo-player-password"),
]
DEMO_USER_PASSWORD = "demo-user-password"  # noqa: S105 - public demo data
BATCH = 5_000


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
        parser.add_argument("--seed", type=int, default=1, help="Random seed.")

    def handle(self, *args: Any, **options: Any) -> None:
        self.random = random.Random(options["seed"])  # noqa: S311 - demo data
        admin = self._accounts()
        demo_users = self._bulk_users("demo", 40)
        for plan in _plans(submissions=120):
            self._contest(plan, admin, demo_users)
        if options["users"] > 0:
            started = time.monotonic()
            self._large(admin, options["users"], options["submissions"])
            self.stdout.write(f"demo-large ready in {time.monotonic() - started:.1f}s")

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
        """Create ``count`` users named prefix-N in batches; return their ids."""
        password = make_password(DEMO_USER_PASSWORD)
        for low in range(0, count, BATCH):
            high = min(count, low + BATCH)
            User.objects.bulk_create(
                [
                    User(
                        email=f"{prefix}{n}@example.com",
                        display_name=f"{prefix}-{n}",
                        password=password,
                    )
                    for n in range(low, high)
                ],
                ignore_conflicts=True,
                batch_size=BATCH,
            )
            self._progress("users", high, count)
        emails = [f"{prefix}{n}@example.com" for n in range(count)]
        ids: list[int] = []
        for low in range(0, count, 50_000):
            chunk = emails[low : low + 50_000]
            ids += list(
                User.objects.filter(email__in=chunk).values_list("pk", flat=True)
            )
        return ids

    def _progress(self, what: str, done: int, total: int) -> None:
        if total >= 2 * BATCH or done == total:
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

    def _large(self, admin: User, users: int, submissions: int) -> None:
        ids = self._bulk_users("load", users)
        plan = Plan(
            "demo-large",
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
        entries: dict[int, Entry] = {}
        with transaction.atomic():
            Participation.objects.bulk_create(
                [Participation(contest=contest, user_id=uid) for uid in set(owners)],
                ignore_conflicts=True,
                batch_size=BATCH,
            )
            batch: list[Submission] = []
            for done, (owner, moment) in enumerate(zip(owners, times, strict=True), 1):
                score = self.random.randint(0, 10_000)
                batch.append(self._submit(contest, entries, owner, score, moment))
                if len(batch) >= BATCH:
                    Submission.objects.bulk_create(batch, batch_size=BATCH)
                    batch = []
                    self._progress("submissions", done, count)
            Submission.objects.bulk_create(batch, batch_size=BATCH)
            self._progress("submissions", count, count)
            for done, chunk in enumerate(_chunks(list(entries.values())), 1):
                Entry.objects.bulk_create(chunk, batch_size=BATCH)
                self._progress("entries", min(done * BATCH, len(entries)), len(entries))

    def _submit(
        self,
        contest: Contest,
        entries: dict[int, Entry],
        user_id: int,
        score: int,
        moment: datetime,
    ) -> Submission:
        """Apply a score to an in-memory entry the way the database would."""
        entry = entries.get(user_id)
        if entry is None:
            entry = Entry(
                contest=contest,
                user_id=user_id,
                score=score,
                reached_at=moment,
                submission_count=0,
                version=0,
                updated_at=moment,
            )
            entries[user_id] = entry
            new, changed, previous = score, True, None
        else:
            previous = entry.score
            new = _combine(contest, entry.score, score)
            changed = new != entry.score
        entry.score = new
        if changed:
            entry.reached_at = moment
        entry.submission_count += 1
        entry.version += 1
        entry.updated_at = moment
        better = previous is None or (
            new > previous if contest.order == Order.DESC else new < previous
        )
        return Submission(
            contest=contest,
            user_id=user_id,
            kind=Kind.SCORE,
            score=score,
            created_at=moment,
            outcome=_outcome(contest, changed),
            entry_version=entry.version,
            entry_score=entry.score,
            entry_reached_at=entry.reached_at,
            new_best=better,
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


def _chunks(items: list[Entry]) -> Iterator[list[Entry]]:
    for low in range(0, len(items), BATCH):
        yield items[low : low + BATCH]
