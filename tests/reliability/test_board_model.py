"""A stateful property: PostgreSQL, Redis and a plain model agree on ranks.

Hypothesis drives the real services through submissions in every scoring
mode and order, with both tie rules, Redis flushes, rebuilds, hiding,
adjustments, the end and the finalize, and after every step compares the
public and the admin board three ways: the plain model below, the Entry
rows ranked by PostgreSQL and the Redis board (or, once finalized, the
Standing rows). CI runs a short walk; ``-m slow`` a long one.
"""

from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from rest_framework.exceptions import APIException

from accounts.tests.factories import UserFactory
from contestplatform.exceptions import Conflict
from contests.models import Contest, Order, Scoring, Ties
from contests.services import contest_end
from leaderboards import board, selectors, services
from leaderboards.models import Standing
from leaderboards.tests.conftest import make_contest

PLAYERS = 3
# A narrow range of scores makes ties, and submissions that change
# nothing, common.
SCORES = st.integers(min_value=0, max_value=3)
MIN_STEPS_BEFORE_END = 8


@dataclass
class ModelEntry:
    score: int
    reached: int  # the step at which the score was reached
    hidden: bool = False


@dataclass
class Model:
    """The ranking rules of README "Contests and leaderboards", in plain code."""

    scoring: str
    order: str
    ties: str
    entries: dict[int, ModelEntry] = field(default_factory=dict)

    def _better(self, a: int, b: int) -> bool:
        return a > b if self.order == Order.DESC else a < b

    def submit(self, user_id: int, score: int, step: int) -> None:
        entry = self.entries.get(user_id)
        if entry is None:
            self.entries[user_id] = ModelEntry(score, step)
            return
        if self.scoring == Scoring.SUM:
            new = entry.score + score
        elif self.scoring == Scoring.LATEST:
            new = score
        else:
            new = score if self._better(score, entry.score) else entry.score
        if new != entry.score:
            entry.score, entry.reached = new, step

    def adjust(self, user_id: int, delta: int, step: int) -> None:
        entry = self.entries[user_id]
        if delta:
            entry.score, entry.reached = entry.score + delta, step

    def ranks(self, *, everyone: bool) -> list[tuple[int, int, int]]:
        """(rank, user id, score) in board order."""
        sign = -1 if self.order == Order.DESC else 1
        shown = [
            (uid, e) for uid, e in self.entries.items() if everyone or not e.hidden
        ]
        shown.sort(key=lambda item: (sign * item[1].score, item[1].reached, item[0]))
        rows = []
        for position, (uid, entry) in enumerate(shown):
            rank = position + 1
            if self.ties == Ties.SHARED:
                rank = 1 + sum(
                    1 for _, other in shown if sign * other.score < sign * entry.score
                )
            rows.append((rank, uid, entry.score))
        return rows


def _rows(page: board.Page) -> list[tuple[int, int, int]]:
    return [(row.rank, row.user_id, row.score) for row in page.rows]


class BoardMachine(RuleBasedStateMachine):
    contest: Contest
    model: Model

    @initialize(
        scoring=st.sampled_from(Scoring.values),
        order=st.sampled_from(Order.values),
        ties=st.sampled_from(Ties.values),
    )
    def open_contest(self, scoring: str, order: str, ties: str) -> None:
        self.contest = make_contest(scoring=scoring, order=order, ties=ties)
        created = UserFactory.create_batch(PLAYERS)
        self.users = [user.pk for user in created]
        self.user_objects = {user.pk: user for user in created}
        self.model = Model(scoring, order, ties)
        self.step = 0
        self.ended = False
        self.finalized = False

    def _tick(self) -> int:
        self.step += 1
        return self.step

    @rule(player=st.integers(0, PLAYERS - 1), score=SCORES)
    def submit(self, player: int, score: int) -> None:
        user_id = self.users[player]
        self.contest.refresh_from_db()
        step = self._tick()
        if self.ended:
            with pytest.raises(Conflict):
                services.submission_create(
                    contest=self.contest, user=self.user_objects[user_id], score=score
                )
            return
        result = services.submission_create(
            contest=self.contest, user=self.user_objects[user_id], score=score
        )
        self.model.submit(user_id, score, step)
        assert result.submission.entry_score == self.model.entries[user_id].score

    @rule()
    def flush_redis(self) -> None:
        board.client().flushdb()

    @precondition(lambda self: not self.finalized)
    @rule()
    def rebuild(self) -> None:
        self.contest.refresh_from_db()
        assert services.board_rebuild(contest=self.contest)

    @precondition(lambda self: not self.finalized)
    @rule(player=st.integers(0, PLAYERS - 1), hidden=st.booleans())
    def hide(self, player: int, hidden: bool) -> None:
        user_id = self.users[player]
        admin = self.user_objects[self.users[0]]
        self._tick()
        if user_id not in self.model.entries:
            with pytest.raises(APIException):
                services.entry_set_hidden(
                    contest=self.contest, user_id=user_id, hidden=hidden, actor=admin
                )
            return
        services.entry_set_hidden(
            contest=self.contest, user_id=user_id, hidden=hidden, actor=admin
        )
        self.model.entries[user_id].hidden = hidden

    @precondition(lambda self: not self.finalized)
    @rule(player=st.integers(0, PLAYERS - 1), delta=st.integers(-2, 2))
    def adjust(self, player: int, delta: int) -> None:
        user_id = self.users[player]
        admin = self.user_objects[self.users[0]]
        self.contest.refresh_from_db()
        step = self._tick()
        if user_id not in self.model.entries:
            with pytest.raises(APIException):
                services.entry_adjust(
                    contest=self.contest,
                    user_id=user_id,
                    delta=delta,
                    reason="model",
                    actor=admin,
                )
            return
        services.entry_adjust(
            contest=self.contest, user_id=user_id, delta=delta, reason="m", actor=admin
        )
        self.model.adjust(user_id, delta, step)

    # Ending early would leave most walks with nothing left to rank.
    @precondition(lambda self: not self.ended and self.step >= MIN_STEPS_BEFORE_END)
    @rule()
    def end(self) -> None:
        self.contest = contest_end(contest=self.contest)
        self.ended = True

    @precondition(lambda self: self.ended and not self.finalized)
    @rule()
    def finalize(self) -> None:
        self.contest = services.contest_finalize(contest=self.contest)
        self.finalized = True

    @invariant()
    def everyone_agrees(self) -> None:
        if not hasattr(self, "contest"):
            return
        self.contest.refresh_from_db()
        for everyone in (False, True):
            expected = self.model.ranks(everyone=everyone)
            viewer = selectors.Viewer(user_id=None, is_admin=everyone, live=everyone)
            served = selectors.leaderboard_page(
                contest=self.contest, viewer=viewer, offset=0, limit=1000
            )
            assert _rows(served) == expected, ("served", everyone)
            assert served.total == len(expected)
            if self.finalized:
                self._check_standings(expected, everyone=everyone)
                continue
            sql = selectors._entries_page(self.contest, everyone, 0, None)
            assert _rows(sql) == expected, ("postgres", everyone)
            # The read above rebuilt the board if it was flushed: Redis
            # itself must now hold exactly the model's ranking.
            held = board.page(self.contest, offset=0, limit=1000, everyone=everyone)
            assert held is not None
            assert _rows(held) == expected, ("redis", everyone)

    def _check_standings(self, expected, *, everyone: bool) -> None:
        standings = Standing.objects.filter(contest=self.contest)
        if not everyone:
            standings = standings.filter(hidden=False)
            found = sorted((s.rank, s.user_id, s.score) for s in standings)
            assert found == sorted(expected), "standings"


QUICK = settings(
    max_examples=25,
    stateful_step_count=12,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
LONG = settings(
    max_examples=300,
    stateful_step_count=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@pytest.mark.django_db
def test_postgres_redis_and_the_model_agree_on_every_rank() -> None:
    run_state_machine_as_test(BoardMachine, settings=QUICK)


@pytest.mark.slow
@pytest.mark.django_db
def test_postgres_redis_and_the_model_agree_on_every_rank_in_a_long_walk() -> None:
    run_state_machine_as_test(BoardMachine, settings=LONG)
