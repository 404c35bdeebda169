"""Contests and who takes part in them.

A contest's state is never stored: it follows from its times and flags
(``Contest.state_at``), so no scheduler is needed for it to be right.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

# A Redis score is a double: integers are exact up to 2**53. Scores, sums
# and adjustments must stay inside this range on the board.
MAX_EXACT_SCORE = 2**53 - 1
# The live board outlives the end by at most this long.
MAX_RETENTION = timedelta(days=365)


class Scoring(models.TextChoices):
    BEST = "best", "Keep the best"
    LATEST = "latest", "Keep the latest"
    SUM = "sum", "Add every submission"


class Order(models.TextChoices):
    DESC = "desc", "Higher wins"
    ASC = "asc", "Lower wins"


class Ties(models.TextChoices):
    EARLIEST = "earliest", "Earliest to reach the score ranks first (1,2,3,4)"
    SHARED = "shared", "Equal scores share a rank (1,2,2,4)"


class State(models.TextChoices):
    DRAFT = "draft"
    SCHEDULED = "scheduled"
    RUNNING = "running"
    FROZEN = "frozen"
    ENDED = "ended"
    FINALIZED = "finalized"
    CANCELLED = "cancelled"


# Fields that decide how scores are ranked; they are fixed once it starts.
RULE_FIELDS = (
    "scoring",
    "order",
    "ties",
    "score_min",
    "score_max",
    "join_required",
    "max_participants",
    "max_submissions_per_user",
)


class ContestQuerySet(models.QuerySet["Contest"]):
    def update(self, **kwargs: object) -> int:
        # An update sends no post_save, but the contest cache
        # (contests.cache) must hear of it.
        from .cache import contest_invalidate

        count = super().update(**kwargs)
        if count:
            contest_invalidate()
        return count


class ContestManager(models.Manager["Contest"]):
    def get_queryset(self) -> ContestQuerySet:
        return ContestQuerySet(self.model, using=self._db)


class Contest(models.Model):
    slug = models.SlugField(max_length=64, unique=True)
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True, max_length=10_000)
    starts_at = models.DateTimeField()
    ends_at = models.DateTimeField()
    freeze_at = models.DateTimeField(null=True, blank=True)
    scoring = models.CharField(
        max_length=8, choices=Scoring.choices, default=Scoring.BEST
    )
    order = models.CharField(max_length=4, choices=Order.choices, default=Order.DESC)
    ties = models.CharField(max_length=8, choices=Ties.choices, default=Ties.EARLIEST)
    score_min = models.BigIntegerField(default=0)
    score_max = models.BigIntegerField(default=1_000_000)
    join_required = models.BooleanField(default=False)
    max_participants = models.PositiveIntegerField(null=True, blank=True)
    max_submissions_per_user = models.PositiveIntegerField(null=True, blank=True)
    retention = models.DurationField(
        default=timedelta(days=7),
        help_text="How long the live Redis board outlives the end.",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="contests_created",
        null=True,
        blank=True,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    published_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    finalized_at = models.DateTimeField(null=True, blank=True)
    # Set when a board update could not reach Redis after its commit; the
    # next request that uses the board rebuilds it and clears this.
    board_stale_since = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ContestManager()

    class Meta:
        ordering = ["-starts_at", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="contest_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(freeze_at__isnull=True)
                | (Q(freeze_at__gte=F("starts_at")) & Q(freeze_at__lte=F("ends_at"))),
                name="contest_freeze_inside_window",
            ),
            models.CheckConstraint(
                condition=Q(score_min__lte=F("score_max")),
                name="contest_score_bounds_ordered",
            ),
            models.CheckConstraint(
                condition=Q(score_min__gte=-MAX_EXACT_SCORE)
                & Q(score_max__lte=MAX_EXACT_SCORE),
                name="contest_score_bounds_exact",
            ),
        ]
        indexes = [models.Index(fields=["ends_at"], name="contest_ends_at_idx")]

    def __str__(self) -> str:
        return self.slug

    def state_at(self, now: datetime) -> State:
        if self.cancelled_at:
            return State.CANCELLED
        if self.finalized_at:
            return State.FINALIZED
        if not self.published_at:
            return State.DRAFT
        if now < self.starts_at:
            return State.SCHEDULED
        if now >= self.ends_at:
            return State.ENDED
        if self.freeze_at and now >= self.freeze_at:
            return State.FROZEN
        return State.RUNNING

    @property
    def state(self) -> State:
        return self.state_at(timezone.now())

    @property
    def has_started(self) -> bool:
        return bool(self.published_at) and timezone.now() >= self.starts_at

    @property
    def board_expires_at(self) -> datetime:
        return self.ends_at + self.retention

    @property
    def accepts_submissions(self) -> bool:
        return self.state in (State.RUNNING, State.FROZEN)


class Participation(models.Model):
    """A user who joined a contest (or submitted to one that needs no join)."""

    contest = models.ForeignKey(
        Contest, on_delete=models.CASCADE, related_name="participants"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="participations",
    )
    joined_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["joined_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["contest", "user"], name="participation_once_per_contest"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.contest_id}"
