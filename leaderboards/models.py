"""Submissions (the append-only log), entries (live standing), standings.

PostgreSQL is the source of truth: every Redis board can be rebuilt from
the Entry rows, and every Entry from the Submission log (each submission
records the entry as it left it).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from contests.models import Contest


class Outcome(models.TextChoices):
    NEW_BEST = "new_best", "New best"
    NO_IMPROVEMENT = "no_improvement", "No improvement"
    ADDED = "added", "Added to the total"
    REPLACED = "replaced", "Replaced the score"
    ADJUSTED = "adjusted", "Adjusted by an admin"


class Kind(models.TextChoices):
    SCORE = "score", "Score from the participant"
    ADJUSTMENT = "adjustment", "Award or penalty from an admin"


class Submission(models.Model):
    """One accepted score or adjustment. Never updated by the API, never deleted."""

    contest = models.ForeignKey(
        Contest, on_delete=models.PROTECT, related_name="submissions"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="submissions"
    )
    kind = models.CharField(max_length=10, choices=Kind.choices, default=Kind.SCORE)
    score = models.BigIntegerField(help_text="The score sent, or the adjustment.")
    created_at = models.DateTimeField(default=timezone.now)
    # NULL, not "", when the client sent no key: the unique constraint only
    # covers submissions that carry one.
    idempotency_key = models.CharField(  # noqa: DJ001
        max_length=128, null=True, blank=True
    )
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    client_ip = models.GenericIPAddressField(null=True, blank=True)
    # The entry as this submission left it: enough to rebuild any Entry, or
    # the board as it stood at any moment (the freeze), from the log alone.
    entry_version = models.BigIntegerField()
    entry_score = models.BigIntegerField()
    entry_reached_at = models.DateTimeField()
    new_best = models.BooleanField(default=False)
    # The rank answered to the client, kept so a retry gets the same answer.
    rank_answered = models.BigIntegerField(null=True, blank=True)
    # Adjustments only: which admin, and why.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="adjustments_made",
        null=True,
        blank=True,
    )
    reason = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["contest", "user", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="submission_idempotency_key_unique",
            ),
        ]
        indexes = [
            models.Index(
                fields=["contest", "user", "entry_version"],
                name="submission_entry_version_idx",
            ),
            models.Index(fields=["contest", "created_at"], name="submission_time_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.score} by {self.user_id} in {self.contest_id}"


class Entry(models.Model):
    """A participant's current standing in a contest."""

    contest = models.ForeignKey(
        Contest, on_delete=models.CASCADE, related_name="entries"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="entries"
    )
    score = models.BigIntegerField()
    reached_at = models.DateTimeField()
    submission_count = models.PositiveIntegerField(default=0)
    # Bumped by every change; Redis applies an update only if it is newer.
    version = models.BigIntegerField(default=0)
    hidden = models.BooleanField(default=False)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "entries"
        constraints = [
            models.UniqueConstraint(fields=["contest", "user"], name="entry_unique"),
        ]
        indexes = [
            models.Index(fields=["contest", "updated_at"], name="entry_updated_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.score} in {self.contest_id}"


class Standing(models.Model):
    """A participant's final result, written once at finalize."""

    contest = models.ForeignKey(
        Contest, on_delete=models.CASCADE, related_name="standings"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="standings"
    )
    # The public rank; hidden participants have none.
    rank = models.PositiveIntegerField(null=True, blank=True)
    score = models.BigIntegerField()
    reached_at = models.DateTimeField()
    hidden = models.BooleanField(default=False)

    class Meta:
        ordering = ["contest", "rank"]
        constraints = [
            models.UniqueConstraint(fields=["contest", "user"], name="standing_unique"),
        ]
        indexes = [models.Index(fields=["contest", "rank"], name="standing_rank_idx")]

    def __str__(self) -> str:
        return f"#{self.rank} {self.user_id} in {self.contest_id}"
