"""The state of a contest, in Python (Contest.state_at) and as a query."""

from datetime import timedelta

import pytest
from django.utils import timezone

from contests.models import Contest, State
from contests.selectors import contest_list

from .factories import HOUR, ContestFactory, from_now

pytestmark = pytest.mark.django_db

# Variants of every state: the freeze and the flags interact with the times,
# so each state is built more than one way.
VARIANTS: list[tuple[State, dict[str, object]]] = [
    (State.DRAFT, {"draft": True}),
    (State.DRAFT, {"draft": True, "ended": True}),
    (State.SCHEDULED, {"scheduled": True}),
    (State.SCHEDULED, {"scheduled": True, "freeze_at": None}),
    (State.RUNNING, {"running": True}),
    (State.RUNNING, {"freeze_at": from_now(HOUR / 2)}),
    (State.FROZEN, {"frozen": True}),
    (State.ENDED, {"ended": True}),
    (State.ENDED, {"ended": True, "freeze_at": from_now(-2 * HOUR)}),
    (State.FINALIZED, {"finalized": True}),
    (State.CANCELLED, {"cancelled": True}),
    (State.CANCELLED, {"cancelled": True, "draft": True}),
    (State.CANCELLED, {"cancelled": True, "ended": True}),
]


def _variant_id(variant: tuple[State, dict[str, object]]) -> str:
    state, fields = variant
    return f"{state}-" + "-".join(sorted(fields))


@pytest.mark.parametrize("variant", VARIANTS, ids=_variant_id)
def test_each_variant_has_the_state_it_is_built_for(variant) -> None:
    state, fields = variant

    contest = ContestFactory.create(**fields)

    assert contest.state == state


@pytest.mark.parametrize("state", list(State))
def test_the_state_query_finds_exactly_the_contests_in_that_state(state) -> None:
    contests = [ContestFactory.create(**fields) for _, fields in VARIANTS]
    now = timezone.now()
    expected = {c.pk for c in contests if c.state_at(now) == state}

    found = set(
        contest_list(include_drafts=True, state=state).values_list("pk", flat=True)
    )

    assert expected  # every state is represented
    assert found == expected


def test_every_contest_falls_in_exactly_one_state_query() -> None:
    for _, fields in VARIANTS:
        ContestFactory.create(**fields)

    counts = [contest_list(include_drafts=True, state=s).count() for s in State]

    assert sum(counts) == Contest.objects.count()


def test_the_public_list_leaves_drafts_out() -> None:
    published = ContestFactory.create()
    ContestFactory.create(draft=True)
    ContestFactory.create(draft=True, cancelled=True)

    assert list(contest_list(include_drafts=False)) == [published]
    assert not contest_list(include_drafts=False, state=State.DRAFT).exists()


def _contest_at_fixed_times() -> Contest:
    start = timezone.now()
    return Contest(
        slug="fixed",
        starts_at=start,
        freeze_at=start + HOUR,
        ends_at=start + 2 * HOUR,
        published_at=start - HOUR,
    )


@pytest.mark.parametrize(
    ("offset", "state"),
    [
        (-timedelta(microseconds=1), State.SCHEDULED),
        (timedelta(0), State.RUNNING),
        (HOUR - timedelta(microseconds=1), State.RUNNING),
        (HOUR, State.FROZEN),
        (2 * HOUR - timedelta(microseconds=1), State.FROZEN),
        (2 * HOUR, State.ENDED),
    ],
)
def test_the_state_changes_exactly_at_the_start_freeze_and_end(offset, state) -> None:
    contest = _contest_at_fixed_times()

    assert contest.state_at(contest.starts_at + offset) == state


def test_the_flags_win_over_the_times() -> None:
    contest = _contest_at_fixed_times()
    during = contest.starts_at + HOUR / 2

    contest.finalized_at = during
    assert contest.state_at(during) == State.FINALIZED
    contest.cancelled_at = during
    assert contest.state_at(during) == State.CANCELLED
    contest.published_at = contest.finalized_at = None
    assert contest.state_at(during) == State.CANCELLED


def test_a_draft_stays_a_draft_whatever_the_clock_says() -> None:
    contest = _contest_at_fixed_times()
    contest.published_at = None

    for offset in (-HOUR, HOUR / 2, 3 * HOUR):
        assert contest.state_at(contest.starts_at + offset) == State.DRAFT


def test_only_running_and_frozen_contests_accept_submissions() -> None:
    accepting = {
        state
        for state, fields in VARIANTS
        if ContestFactory.create(**fields).accepts_submissions
    }

    assert accepting == {State.RUNNING, State.FROZEN}


def test_a_contest_has_started_once_published_and_past_its_start() -> None:
    assert ContestFactory.create().has_started
    assert ContestFactory.create(ended=True).has_started
    assert not ContestFactory.create(scheduled=True).has_started
    assert not ContestFactory.create(draft=True).has_started


def test_the_board_outlives_the_end_by_the_retention() -> None:
    contest = ContestFactory.create(retention=timedelta(days=2))

    assert contest.board_expires_at == contest.ends_at + timedelta(days=2)
    assert ContestFactory.create().retention == timedelta(days=7)
