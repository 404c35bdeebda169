"""No user enumeration beyond what is documented (docs/reliability.md).

Login answers the same for an unknown email, a wrong password and an
inactive account, in status, body, headers and (under the production
hasher) time. Registration does say an email is registered: that is the
documented disclosure, the same for every kind of account, and throttled.
Account and board lookups answer alike for ids that exist and ids that
do not.
"""

import statistics
import time

import pytest
from rest_framework.test import APIClient

from accounts.models import Role
from accounts.tests.factories import UserFactory
from conftest import PASSWORD, client_for

pytestmark = pytest.mark.django_db

TOKEN = "/api/v1/auth/token/"
REGISTER = "/api/v1/auth/register/"
# Timing rounds per kind of attempt, interleaved so load on the machine
# hits every kind alike.
ROUNDS = 5
# Unknown emails cost one hash too (Django's ModelBackend hashes the
# password against nothing); a missing hash would make them 50 to 100
# times faster under bcrypt, far outside this bound.
TIMING_RATIO = 3.0


def _without_volatile(headers: dict[str, str]) -> dict[str, str]:
    # The rate-limit fields count per email, so they say nothing of the
    # account; everything else must be identical.
    volatile = {"ratelimit", "ratelimit-policy", "date", "content-length"}
    return {k.lower(): v for k, v in headers.items() if k.lower() not in volatile}


@pytest.fixture
def accounts(db):
    active = UserFactory(password=PASSWORD)
    inactive = UserFactory(password=PASSWORD, is_active=False)
    return active, inactive


def _attempts(active, inactive) -> dict[str, dict[str, str]]:
    return {
        "unknown": {"email": "nobody-here@example.com", "password": PASSWORD},
        "wrong_password": {"email": active.email, "password": "wrong-password-x"},
        "inactive": {"email": inactive.email, "password": PASSWORD},
    }


def test_failed_logins_are_identical_whoever_the_email_belongs_to(
    accounts, api: APIClient
) -> None:
    answers = {
        kind: api.post(TOKEN, body) for kind, body in _attempts(*accounts).items()
    }

    statuses = {kind: r.status_code for kind, r in answers.items()}
    bodies = {kind: r.json() for kind, r in answers.items()}
    headers = {kind: _without_volatile(dict(r.items())) for kind, r in answers.items()}
    assert set(statuses.values()) == {401}
    assert len({str(body) for body in bodies.values()}) == 1
    assert len({str(sorted(h.items())) for h in headers.values()}) == 1


def test_failed_logins_take_as_long_whoever_the_email_belongs_to(
    accounts, api: APIClient, settings
) -> None:
    active, inactive = accounts
    settings.PASSWORD_HASHERS = [
        "django.contrib.auth.hashers.BCryptSHA256PasswordHasher"
    ]
    for user in accounts:
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
    attempts = _attempts(active, inactive)
    times: dict[str, list[float]] = {kind: [] for kind in attempts}

    for _ in range(ROUNDS):
        for kind, body in attempts.items():
            started = time.perf_counter()
            assert api.post(TOKEN, body).status_code == 401
            times[kind].append(time.perf_counter() - started)

    medians = {kind: statistics.median(spent) for kind, spent in times.items()}
    assert max(medians.values()) / min(medians.values()) < TIMING_RATIO, medians


def test_registration_says_registered_alike_for_every_kind_of_account(
    api: APIClient,
) -> None:
    kinds = {
        "active": UserFactory(),
        "inactive": UserFactory(is_active=False),
        "admin": UserFactory(role=Role.ADMIN),
    }
    answers = {}
    for kind, user in kinds.items():
        response = api.post(
            REGISTER,
            {
                "email": user.email.upper(),
                "password": "a-long-enough-passphrase",
                "display_name": f"new-{kind}",
            },
        )
        answers[kind] = (response.status_code, response.json())

    assert {status for status, _ in answers.values()} == {400}
    assert len({str(body) for _, body in answers.values()}) == 1
    only = next(iter(answers.values()))[1]
    assert only["errors"] == [
        {"code": "unique", "detail": "This email is registered.", "attr": "email"}
    ]


def test_an_account_lookup_by_a_user_answers_alike_for_any_id(db) -> None:
    user = UserFactory()
    other = UserFactory()
    client = client_for(user)

    existing = client.get(f"/api/v1/users/{other.pk}/")
    missing = client.get(f"/api/v1/users/{other.pk + 10_000}/")

    assert existing.status_code == missing.status_code == 403
    assert existing.json() == missing.json()


def test_a_board_lookup_answers_alike_for_an_absent_user_and_no_user(db) -> None:
    from leaderboards.tests.conftest import make_contest

    contest = make_contest()
    absent = UserFactory()
    url = f"/api/v1/contests/{contest.slug}/leaderboard/users/"
    client = APIClient()

    existing = client.get(f"{url}{absent.pk}/")
    missing = client.get(f"{url}{absent.pk + 10_000}/")

    assert existing.status_code == missing.status_code == 404
    assert existing.json() == missing.json()
