"""What the API accepts as a contest's configuration, on create and update."""

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from contests.models import MAX_EXACT_SCORE, Contest, Scoring

from .factories import HOUR, ContestFactory, ParticipationFactory
from .helpers import LIST_URL, detail_url, error_code, field_errors

pytestmark = pytest.mark.django_db


def _body(**changes: Any) -> dict[str, Any]:
    start = timezone.now() + HOUR
    body: dict[str, Any] = {
        "slug": "spring-cup",
        "title": "Spring cup",
        "starts_at": start.isoformat(),
        "ends_at": (start + 2 * HOUR).isoformat(),
    }
    body.update(changes)
    return {name: value for name, value in body.items() if value is not ...}


def _create(admin_api, **changes: Any) -> Any:
    return admin_api.post(LIST_URL, _body(**changes), format="json")


def test_it_creates_a_draft_with_the_defaults(admin_api, admin_user) -> None:
    response = _create(admin_api)

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["state"] == "draft"
    assert body["scoring"] == "best"
    assert body["order"] == "desc"
    assert body["ties"] == "earliest"
    assert body["retention"] == "7 00:00:00"
    contest = Contest.objects.get(slug="spring-cup")
    assert contest.created_by == admin_user
    assert contest.published_at is None


def test_it_ignores_flags_and_state_sent_on_create(admin_api) -> None:
    now = timezone.now().isoformat()
    flags = {"published_at": now, "finalized_at": now, "state": "running"}

    response = _create(admin_api, **flags)

    assert response.status_code == 201
    assert response.json()["state"] == "draft"
    contest = Contest.objects.get()
    assert contest.published_at is None
    assert contest.finalized_at is None


@pytest.mark.parametrize("missing", ["slug", "title", "starts_at", "ends_at"])
def test_it_requires_the_slug_title_and_times(admin_api, missing) -> None:
    response = _create(admin_api, **{missing: ...})

    assert field_errors(response) == {missing: "required"}


def test_it_refuses_an_end_before_the_start(admin_api) -> None:
    start = timezone.now() + HOUR

    response = _create(
        admin_api, starts_at=start.isoformat(), ends_at=(start - HOUR).isoformat()
    )

    assert field_errors(response) == {"ends_at": "invalid"}


def test_it_refuses_an_end_equal_to_the_start(admin_api) -> None:
    start = (timezone.now() + HOUR).isoformat()

    response = _create(admin_api, starts_at=start, ends_at=start)

    assert field_errors(response) == {"ends_at": "invalid"}


@pytest.mark.parametrize("offset", [-timedelta(seconds=1), 2 * HOUR + timedelta(1)])
def test_it_refuses_a_freeze_outside_the_window(admin_api, offset) -> None:
    start = timezone.now() + HOUR
    body = {
        "starts_at": start.isoformat(),
        "ends_at": (start + 2 * HOUR).isoformat(),
        "freeze_at": (start + offset).isoformat(),
    }

    response = _create(admin_api, **body)

    assert field_errors(response) == {"freeze_at": "invalid"}


@pytest.mark.parametrize("offset", [timedelta(0), HOUR, 2 * HOUR])
def test_it_accepts_a_freeze_anywhere_inside_the_window(admin_api, offset) -> None:
    start = timezone.now() + HOUR
    body = {
        "starts_at": start.isoformat(),
        "ends_at": (start + 2 * HOUR).isoformat(),
        "freeze_at": (start + offset).isoformat(),
    }

    assert _create(admin_api, **body).status_code == 201


def test_it_refuses_bounds_in_the_wrong_order(admin_api) -> None:
    response = _create(admin_api, score_min=10, score_max=9)

    assert field_errors(response) == {"score_max": "invalid"}


@pytest.mark.parametrize(
    ("field", "value"), [("score_min", 2_000_000), ("score_max", -1)]
)
def test_it_checks_one_bound_against_the_default_of_the_other(
    admin_api, field, value
) -> None:
    response = _create(admin_api, **{field: value})

    assert field_errors(response) == {"score_max": "invalid"}


def test_it_accepts_equal_bounds(admin_api) -> None:
    assert _create(admin_api, score_min=5, score_max=5).status_code == 201


def test_it_accepts_the_widest_exact_bounds(admin_api) -> None:
    response = _create(admin_api, score_min=-MAX_EXACT_SCORE, score_max=MAX_EXACT_SCORE)

    assert response.status_code == 201
    assert response.json()["score_max"] == MAX_EXACT_SCORE


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("score_max", MAX_EXACT_SCORE + 1, "max_value"),
        ("score_min", -MAX_EXACT_SCORE - 1, "min_value"),
        ("score_max", 2**63, "max_value"),
        ("score_max", 10**400, "max_value"),
        ("score_max", 1.5, "invalid"),
        ("score_max", "many", "invalid"),
        ("score_max", True, "invalid"),
        ("score_max", None, "null"),
    ],
)
def test_it_refuses_bounds_beyond_the_exact_range(admin_api, field, value, code):
    response = _create(admin_api, **{field: value})

    assert field_errors(response) == {field: code}


@pytest.mark.parametrize(
    "retention", ["0", "00:00:00", "1 00:00:00", "365 00:00:00", "P365D"]
)
def test_it_accepts_a_retention_up_to_a_year(admin_api, retention) -> None:
    assert _create(admin_api, retention=retention).status_code == 201


@pytest.mark.parametrize(
    "retention", ["-1", "-1 00:00:00", "366 00:00:00", "365 00:00:01", "P365DT1H"]
)
def test_it_refuses_a_retention_outside_zero_to_a_year(admin_api, retention) -> None:
    response = _create(admin_api, retention=retention)

    assert field_errors(response) == {"retention": "out_of_range"}


@pytest.mark.parametrize("retention", ["soon", "P99999999999D", 10**30, None])
def test_it_refuses_a_retention_that_is_no_duration(admin_api, retention) -> None:
    response = _create(admin_api, retention=retention)

    assert list(field_errors(response)) == ["retention"]


@pytest.mark.parametrize(
    "value",
    [
        "tomorrow",
        "2026-02-30T10:00:00Z",
        "9999-12-31T23:59:59-05:00",
        "0001-01-01T00:00:00+05:00",
        12,
        None,
    ],
)
def test_it_refuses_a_start_that_is_no_time(admin_api, value) -> None:
    response = _create(admin_api, starts_at=value)

    assert list(field_errors(response)) == ["starts_at"]


def test_it_refuses_an_end_too_late_for_the_board_to_expire(admin_api) -> None:
    # The live board expires at ends_at + retention, which must be a time.
    late = "9999-12-31T00:00:00Z"

    response = _create(admin_api, ends_at=late)

    assert list(field_errors(response)) == ["ends_at"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("scoring", "median"),
        ("order", "sideways"),
        ("ties", "random"),
        ("join_required", "perhaps"),
        ("max_participants", 0),
        ("max_participants", -3),
        ("max_submissions_per_user", 0),
        ("slug", "no spaces please"),
        ("slug", "x" * 65),
        ("title", ""),
        ("title", "t" * 201),
    ],
)
def test_it_refuses_a_bad_field_with_its_name(admin_api, field, value) -> None:
    response = _create(admin_api, **{field: value})

    assert list(field_errors(response)) == [field]


def test_it_refuses_a_duplicate_slug(admin_api) -> None:
    ContestFactory.create(slug="spring-cup")

    response = _create(admin_api)

    assert field_errors(response) == {"slug": "unique"}
    assert Contest.objects.count() == 1


def test_it_reports_every_broken_rule_at_once(admin_api) -> None:
    start = timezone.now() + HOUR
    body = {
        "starts_at": start.isoformat(),
        "ends_at": (start - HOUR).isoformat(),
        "score_min": 3,
        "score_max": 1,
    }

    response = _create(admin_api, **body)

    assert field_errors(response) == {"ends_at": "invalid", "score_max": "invalid"}


# --- updates ---------------------------------------------------------------


def from_now(offset: timedelta) -> str:
    return (timezone.now() + offset).isoformat()


def _patch(admin_api, contest: Contest, **changes: Any) -> Any:
    return admin_api.patch(detail_url(contest.slug), changes, format="json")


RULE_CHANGES = [
    ("scoring", "sum"),
    ("order", "asc"),
    ("ties", "shared"),
    ("score_min", -5),
    ("score_max", 5),
    ("join_required", True),
    ("max_participants", 3),
    ("max_submissions_per_user", 3),
]


@pytest.mark.parametrize(("field", "value"), RULE_CHANGES)
def test_it_changes_the_rules_before_the_start(admin_api, field, value) -> None:
    contest = ContestFactory.create(scheduled=True)

    response = _patch(admin_api, contest, **{field: value})

    assert response.status_code == 200, response.json()
    assert response.json()[field] == value
    contest.refresh_from_db()
    assert getattr(contest, field) == value


@pytest.mark.parametrize(("field", "value"), RULE_CHANGES)
@pytest.mark.parametrize("state", ["running", "frozen", "ended"])
def test_it_refuses_to_change_the_rules_once_started(
    admin_api, state, field, value
) -> None:
    contest = ContestFactory.create(**{state: True})
    before = getattr(contest, field)

    response = _patch(admin_api, contest, **{field: value})

    assert field_errors(response) == {field: "invalid"}
    contest.refresh_from_db()
    assert getattr(contest, field) == before


def test_it_accepts_unchanged_rules_once_started(admin_api) -> None:
    contest = ContestFactory.create()

    response = _patch(admin_api, contest, scoring=contest.scoring, title="Renamed")

    assert response.status_code == 200
    assert response.json()["title"] == "Renamed"


def test_it_changes_the_title_and_description_while_running(admin_api) -> None:
    contest = ContestFactory.create()

    response = _patch(admin_api, contest, title="New title", description="Now.")

    assert response.status_code == 200
    contest.refresh_from_db()
    assert (contest.title, contest.description) == ("New title", "Now.")


def test_it_moves_the_end_later_while_running(admin_api) -> None:
    contest = ContestFactory.create()
    later = contest.ends_at + HOUR

    response = _patch(admin_api, contest, ends_at=later.isoformat())

    assert response.status_code == 200
    contest.refresh_from_db()
    assert contest.ends_at == later


def test_it_refuses_an_earlier_end_once_started(admin_api) -> None:
    contest = ContestFactory.create()
    earlier = contest.ends_at - HOUR / 2

    response = _patch(admin_api, contest, ends_at=earlier.isoformat())

    assert field_errors(response) == {"ends_at": "invalid"}


def test_it_refuses_to_move_the_start_once_started(admin_api) -> None:
    contest = ContestFactory.create()

    response = _patch(
        admin_api, contest, starts_at=(contest.starts_at - HOUR).isoformat()
    )

    assert field_errors(response) == {"starts_at": "invalid"}


def test_it_refuses_to_reopen_an_ended_contest(admin_api) -> None:
    contest = ContestFactory.create(ended=True)

    response = _patch(admin_api, contest, ends_at=from_now(HOUR))

    assert field_errors(response) == {"ends_at": "invalid"}
    contest.refresh_from_db()
    assert contest.state == "ended"


def test_it_refuses_to_lift_a_freeze_by_update(admin_api) -> None:
    contest = ContestFactory.create(frozen=True)

    for freeze in (None, from_now(HOUR / 2)):
        response = _patch(admin_api, contest, freeze_at=freeze)
        assert field_errors(response) == {"freeze_at": "invalid"}
    contest.refresh_from_db()
    assert contest.state == "frozen"


def test_it_refuses_a_freeze_in_the_past_once_started(admin_api) -> None:
    contest = ContestFactory.create()

    response = _patch(admin_api, contest, freeze_at=from_now(-HOUR / 4))

    assert field_errors(response) == {"freeze_at": "invalid"}


def test_it_moves_or_drops_a_freeze_still_ahead_while_running(admin_api) -> None:
    contest = ContestFactory.create(freeze_at=timezone.now() + HOUR / 4)
    later = from_now(HOUR / 2)

    moved = _patch(admin_api, contest, freeze_at=later)
    dropped = _patch(admin_api, contest, freeze_at=None)

    assert moved.status_code == 200, moved.json()
    assert moved.json()["freeze_at"] == later.replace("+00:00", "Z")
    assert dropped.status_code == 200
    assert dropped.json()["freeze_at"] is None


def test_it_refuses_a_cap_below_those_who_joined(admin_api) -> None:
    contest = ContestFactory.create(scheduled=True)
    ParticipationFactory.create_batch(3, contest=contest)

    refused = _patch(admin_api, contest, max_participants=2)
    accepted = _patch(admin_api, contest, max_participants=3)

    assert field_errors(refused) == {"max_participants": "invalid"}
    assert accepted.status_code == 200


def test_it_moves_the_times_of_a_scheduled_contest(admin_api) -> None:
    contest = ContestFactory.create(scheduled=True)
    start, end = contest.starts_at + HOUR, contest.ends_at - HOUR / 2

    response = _patch(
        admin_api, contest, starts_at=start.isoformat(), ends_at=end.isoformat()
    )

    assert response.status_code == 200
    contest.refresh_from_db()
    assert (contest.starts_at, contest.ends_at) == (start, end)


def test_it_checks_a_changed_end_against_the_stored_start(admin_api) -> None:
    contest = ContestFactory.create(scheduled=True)

    response = _patch(admin_api, contest, ends_at=contest.starts_at.isoformat())

    assert field_errors(response) == {"ends_at": "invalid"}


def test_it_checks_a_changed_end_against_the_stored_freeze(admin_api) -> None:
    freeze = timezone.now() + 2 * HOUR
    contest = ContestFactory.create(scheduled=True, freeze_at=freeze)

    response = _patch(admin_api, contest, ends_at=(freeze - HOUR / 2).isoformat())

    assert field_errors(response) == {"freeze_at": "invalid"}


def test_it_checks_a_changed_bound_against_the_stored_one(admin_api) -> None:
    contest = ContestFactory.create(scheduled=True, score_min=0, score_max=100)

    response = _patch(admin_api, contest, score_min=101)

    assert field_errors(response) == {"score_max": "invalid"}


def test_it_keeps_the_slug_on_update(admin_api) -> None:
    contest = ContestFactory.create(scheduled=True, slug="keep-me")

    response = _patch(admin_api, contest, slug="moved", title="Renamed")

    assert response.status_code == 200
    assert response.json()["slug"] == "keep-me"
    assert Contest.objects.get().slug == "keep-me"


@pytest.mark.parametrize("state", ["finalized", "cancelled"])
def test_it_refuses_any_change_to_a_closed_contest(admin_api, state) -> None:
    contest = ContestFactory.create(**{state: True})

    response = _patch(admin_api, contest, title="Too late")

    assert error_code(response, 409) == "contest_closed"


def test_it_refuses_a_bad_value_on_update(admin_api) -> None:
    contest = ContestFactory.create(scheduled=True, scoring=Scoring.BEST)

    response = _patch(admin_api, contest, scoring="median", retention="400 00:00:00")

    assert field_errors(response) == {
        "scoring": "invalid_choice",
        "retention": "out_of_range",
    }
