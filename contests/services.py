"""Writes of the contests app: configuration, lifecycle, participation."""

import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from accounts.models import User
from contestplatform.exceptions import Conflict

from .models import (
    MAX_EXACT_SCORE,
    MAX_RETENTION,
    RULE_FIELDS,
    Contest,
    Participation,
    State,
)
from .signals import contest_cancelled

logger = logging.getLogger(__name__)

# pg_advisory_xact_lock takes (namespace, key); these namespaces keep the
# locks of different purposes on one contest apart.
JOIN_LOCK = 1001


class ContestRuleError(ValueError):
    """A contest configuration that cannot be accepted, by field."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(errors)
        self.errors = errors


def advisory_xact_lock(namespace: int, key: int, *, shared: bool = False) -> None:
    """Take a PostgreSQL advisory lock held until the transaction ends."""
    function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}(%s, %s)", [namespace, key])


def contest_check_rules(
    *, values: Mapping[str, Any], instance: Contest | None = None
) -> None:
    """Raise ContestRuleError for a configuration a contest cannot have.

    ``values`` holds the fields being set; the others come from ``instance``.
    """
    # A new contest gets the model's defaults for what it leaves out.
    current = instance if instance is not None else Contest()

    def value(name: str) -> Any:
        return values[name] if name in values else getattr(current, name)

    errors = {**_window_errors(value), **_bound_errors(value)}
    errors.update(_retention_errors(value))
    if instance is not None:
        errors.update(_capacity_errors(value("max_participants"), instance))
        if instance.has_started:
            errors.update(_changed_rules(values, instance))
    if errors:
        raise ContestRuleError(errors)


def _window_errors(value: Callable[[str], Any]) -> dict[str, str]:
    starts_at, ends_at, freeze_at = (
        value("starts_at"),
        value("ends_at"),
        value("freeze_at"),
    )
    if not (starts_at and ends_at):
        return {}
    if ends_at <= starts_at:
        return {"ends_at": "The end must come after the start."}
    if freeze_at and not starts_at <= freeze_at <= ends_at:
        return {"freeze_at": "The freeze must fall between the start and the end."}
    return {}


def _bound_errors(value: Callable[[str], Any]) -> dict[str, str]:
    low, high = value("score_min"), value("score_max")
    errors: dict[str, str] = {}
    for name, bound in (("score_min", low), ("score_max", high)):
        if bound is not None and abs(bound) > MAX_EXACT_SCORE:
            errors[name] = (
                f"Scores must lie within ±{MAX_EXACT_SCORE} to stay exact on the "
                "leaderboard."
            )
    if not errors and low is not None and high is not None and low > high:
        errors["score_max"] = "score_max must not be below score_min."
    return errors


def _retention_errors(value: Callable[[str], Any]) -> dict[str, str]:
    retention, ends_at = value("retention"), value("ends_at")
    if retention is None:
        return {}
    if not timedelta(0) <= retention <= MAX_RETENTION:
        return {"retention": "Retention lies between 0 and 365 days."}
    # The live board expires at ends_at + retention; past datetime.max that
    # sum raises on every read of the board.
    try:
        if ends_at:
            ends_at + retention
    except OverflowError:
        return {"ends_at": "The end plus the retention must fall before 9999-12-31."}
    return {}


def _capacity_errors(limit: int | None, instance: Contest) -> dict[str, str]:
    # This counts without the join lock; contest_update holds it, so a
    # join cannot slip in between this count and the save.
    if limit is None or limit == instance.max_participants:
        return {}
    joined = instance.participants.count()
    if limit < joined:
        return {"max_participants": f"{joined} have joined; the cap cannot be lower."}
    return {}


def _changed_rules(values: Mapping[str, Any], instance: Contest) -> dict[str, str]:
    errors = {
        name: "This cannot change once the contest has started."
        for name in RULE_FIELDS
        if name in values and values[name] != getattr(instance, name)
    }
    now = timezone.now()
    if _changes(values, instance, "starts_at"):
        errors["starts_at"] = "The start cannot move once the contest has started."
    if _changes(values, instance, "freeze_at") and (
        _reached(instance.freeze_at, now) or _reached(values["freeze_at"], now)
    ):
        errors["freeze_at"] = (
            "Once the contest has started, only a freeze still ahead can move, "
            "and only to a time ahead; the freeze action freezes now."
        )
    if _changes(values, instance, "ends_at"):
        if instance.ends_at <= now:
            errors["ends_at"] = "An ended contest cannot reopen."
        elif values["ends_at"] < instance.ends_at:
            errors["ends_at"] = "A started contest can only end later, not earlier."
    return errors


def _changes(values: Mapping[str, Any], instance: Contest, name: str) -> bool:
    return name in values and values[name] != getattr(instance, name)


def _reached(moment: datetime | None, now: datetime) -> bool:
    return moment is not None and moment <= now


def contest_create(*, actor: User, values: Mapping[str, Any]) -> Contest:
    contest_check_rules(values=values)
    contest = Contest(created_by=actor, **values)
    try:
        with transaction.atomic():
            contest.save()
    except IntegrityError as exc:
        # The serializer checked the slug already; this is a concurrent
        # create of the same one. Anything else is a bug to surface.
        if not Contest.objects.filter(slug=contest.slug).exists():
            raise
        raise ContestRuleError({"slug": "A contest with this slug exists."}) from exc
    logger.info(
        "contest created",
        extra={
            "event": "contest_create",
            "contest": contest.slug,
            "actor_id": actor.pk,
        },
    )
    return contest


def contest_check_open(*, contest: Contest) -> None:
    """Raise Conflict if the contest is finalized or cancelled."""
    state = contest.state
    if state in (State.FINALIZED, State.CANCELLED):
        raise Conflict(f"A {state} contest cannot change.", code="contest_closed")


def contest_update(*, contest: Contest, values: Mapping[str, Any]) -> Contest:
    with transaction.atomic():
        if "max_participants" in values:
            # Hold joins off while the new cap is checked and saved. The
            # join lock comes before the row lock, in the order joins take
            # them, so the two cannot wait for each other.
            advisory_xact_lock(JOIN_LOCK, contest.pk)
        contest = _lock_row(contest)
        contest_check_open(contest=contest)
        contest_check_rules(values=values, instance=contest)
        for name, new in values.items():
            setattr(contest, name, new)
        contest.save()
    return contest


def contest_delete(*, contest: Contest) -> None:
    if contest.state != State.DRAFT:
        raise Conflict(
            f"Only drafts can be deleted; this contest is {contest.state}.",
            code="not_a_draft",
        )
    contest.delete()


def _lock_row(contest: Contest) -> Contest:
    """Reload the contest, locked against other changes until commit.

    NO KEY UPDATE, not UPDATE: inserting a participation or a submission
    takes KEY SHARE on its contest, which UPDATE would block, so a plain
    row lock would stall every join and submission behind an admin edit.
    """
    return Contest.objects.select_for_update(no_key=True).get(pk=contest.pk)


def _transition(
    contest: Contest, *, allowed: tuple[State, ...], action: str, now: datetime
) -> Contest:
    """Lock the contest and check it may take ``action`` in its state."""
    locked = _lock_row(contest)
    state = locked.state_at(now)
    if state not in allowed:
        raise Conflict(
            f"Cannot {action} a contest that is {state}.", code="invalid_transition"
        )
    return locked


def contest_publish(*, contest: Contest) -> Contest:
    now = timezone.now()
    with transaction.atomic():
        contest = _transition(
            contest, allowed=(State.DRAFT,), action="publish", now=now
        )
        if contest.ends_at <= now:
            raise Conflict(
                "The contest's end is in the past; move it before publishing.",
                code="ends_in_past",
            )
        contest.published_at = now
        contest.save(update_fields=["published_at", "updated_at"])
    return contest


def contest_start(*, contest: Contest) -> Contest:
    """Start a scheduled contest now instead of at its planned start."""
    now = timezone.now()
    with transaction.atomic():
        contest = _transition(
            contest, allowed=(State.SCHEDULED,), action="start", now=now
        )
        contest.starts_at = now
        if contest.freeze_at and contest.freeze_at < now:
            contest.freeze_at = now
        contest.save(update_fields=["starts_at", "freeze_at", "updated_at"])
    return contest


def contest_freeze(*, contest: Contest) -> Contest:
    now = timezone.now()
    with transaction.atomic():
        contest = _transition(
            contest, allowed=(State.RUNNING,), action="freeze", now=now
        )
        contest.freeze_at = now
        contest.save(update_fields=["freeze_at", "updated_at"])
    return contest


def contest_end(*, contest: Contest) -> Contest:
    now = timezone.now()
    with transaction.atomic():
        contest = _transition(
            contest, allowed=(State.RUNNING, State.FROZEN), action="end", now=now
        )
        contest.ends_at = now
        if contest.freeze_at and contest.freeze_at > now:
            # The planned freeze never came; keeping it would put it after
            # the end, which the freeze constraint refuses.
            contest.freeze_at = None
        contest.save(update_fields=["ends_at", "freeze_at", "updated_at"])
    return contest


def contest_cancel(*, contest: Contest) -> Contest:
    now = timezone.now()
    before_end = (State.DRAFT, State.SCHEDULED, State.RUNNING, State.FROZEN)
    with transaction.atomic():
        contest = _transition(contest, allowed=before_end, action="cancel", now=now)
        contest.cancelled_at = now
        contest.save(update_fields=["cancelled_at", "updated_at"])
    contest_cancelled.send(sender=Contest, contest=contest)
    return contest


def participation_join(*, contest: Contest, user: User) -> Participation:
    """Join a contest before or during it, once, within its capacity."""
    if contest.state not in (State.SCHEDULED, State.RUNNING, State.FROZEN):
        raise Conflict(
            f"Cannot join a contest that is {contest.state}.", code="not_joinable"
        )
    participation, created = participation_ensure(contest=contest, user=user)
    if not created:
        raise Conflict("You have already joined this contest.", code="already_joined")
    return participation


def participation_ensure(*, contest: Contest, user: User) -> tuple[Participation, bool]:
    """Return the user's participation, creating it if there is room.

    Joins of one contest are serialized by an advisory lock, so the
    capacity check and the insert cannot be interleaved by another join.
    """
    existing = Participation.objects.filter(contest=contest, user=user).first()
    if existing is not None:
        return existing, False
    with transaction.atomic():
        advisory_xact_lock(JOIN_LOCK, contest.pk)
        existing = Participation.objects.filter(contest=contest, user=user).first()
        if existing is not None:
            return existing, False
        # Read the cap again under the lock: an update may have changed it
        # since this request loaded the contest.
        limit = Contest.objects.values_list("max_participants", flat=True).get(
            pk=contest.pk
        )
        if limit is not None and contest.participants.count() >= limit:
            raise Conflict("The contest is full.", code="contest_full")
        return Participation.objects.create(contest=contest, user=user), True


def participation_leave(*, contest: Contest, user: User) -> None:
    if contest.state != State.SCHEDULED:
        raise Conflict(
            f"You can leave only before the start; the contest is {contest.state}.",
            code="not_leavable",
        )
    deleted, _ = Participation.objects.filter(contest=contest, user=user).delete()
    if not deleted:
        raise Conflict("You have not joined this contest.", code="not_joined")
