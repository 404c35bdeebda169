"""Throttles through real endpoints: exactness, identities, headers."""

import threading

import jwt
import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.tests.factories import UserFactory
from conftest import PASSWORD, client_for

BURST = "/api/v1/test/burst/"
SUBMIT = "/api/v1/test/submit/"
READ = "/api/v1/test/read/"
TOKEN = "/api/v1/auth/token/"
REFRESH = "/api/v1/auth/token/refresh/"
LOGOUT = "/api/v1/auth/logout/"
REGISTER = "/api/v1/auth/register/"

ATTACKER = "203.0.113.9"
VICTIM = "198.51.100.7"
PROXY = "10.0.0.1"

pytestmark = pytest.mark.urls("ratelimit.tests.urls")


def _statuses(client: APIClient, path: str, count: int, **extra) -> list[int]:
    return [client.get(path, **extra).status_code for _ in range(count)]


def test_it_admits_exactly_five_of_fifty_parallel_requests() -> None:
    barrier = threading.Barrier(50)
    statuses: list[int] = []
    lock = threading.Lock()

    def attempt() -> None:
        client = APIClient()
        barrier.wait()
        status = client.get(BURST).status_code
        with lock:
            statuses.append(status)

    threads = [threading.Thread(target=attempt) for _ in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(statuses) == [200] * 5 + [429] * 45


def test_it_refuses_in_the_error_shape_with_retry_after(api: APIClient) -> None:
    _statuses(api, BURST, 5)

    response = api.get(BURST)

    assert response.status_code == 429
    assert response.json()["type"] == "client_error"
    assert response.json()["errors"][0]["code"] == "throttled"
    # 5 per minute: one request costs 12 s, so the next is admitted in 12 s.
    assert response["Retry-After"] == "12"


def test_allowed_requests_carry_the_remaining_budget(api: APIClient) -> None:
    first = api.get(BURST)
    second = api.get(BURST)

    assert first.status_code == 200
    assert first["RateLimit-Policy"] == '"test_burst";q=5;w=60'
    assert first["RateLimit"] == '"test_burst";r=4;t=12'
    assert second["RateLimit"] == '"test_burst";r=3;t=12'


def test_refused_requests_carry_an_empty_budget_and_the_wait(api: APIClient) -> None:
    _statuses(api, BURST, 5)

    response = api.get(BURST)

    assert response["RateLimit-Policy"] == '"test_burst";q=5;w=60'
    assert response["RateLimit"] == '"test_burst";r=0;t=12'
    assert response["Retry-After"] == "12"


def test_it_admits_again_once_the_wait_is_over(api: APIClient, clock) -> None:
    _statuses(api, BURST, 5)
    assert api.get(BURST).status_code == 429

    clock.advance(12)

    assert api.get(BURST).status_code == 200
    assert api.get(BURST).status_code == 429


@pytest.mark.django_db
def test_ten_users_behind_one_address_do_not_throttle_each_other() -> None:
    clients = [client_for(UserFactory()) for _ in range(10)]

    first_ten = [
        [client.post(SUBMIT).status_code for _ in range(10)] for client in clients
    ]
    eleventh = [client.post(SUBMIT).status_code for client in clients]

    assert first_ten == [[201] * 10] * 10
    assert eleventh == [429] * 10


@pytest.mark.django_db
def test_reads_do_not_spend_the_submission_budget(user_api: APIClient) -> None:
    reads = [user_api.get(SUBMIT) for _ in range(20)]
    submit = user_api.post(SUBMIT)

    assert {response.status_code for response in reads} == {200}
    assert reads[-1]["RateLimit"].startswith('"read";r=')
    assert submit.status_code == 201
    assert submit["RateLimit"] == '"submission";r=9;t=1'


def test_a_spoofed_forwarded_for_neither_escapes_nor_charges_a_victim() -> None:
    attacker = APIClient(REMOTE_ADDR=ATTACKER)
    victim = APIClient(REMOTE_ADDR=VICTIM)

    spoofed = [
        attacker.get(BURST, HTTP_X_FORWARDED_FOR=f"192.0.2.{n}, {VICTIM}").status_code
        for n in range(6)
    ]
    response = victim.get(BURST)

    assert spoofed == [200] * 5 + [429]
    assert response.status_code == 200
    assert response["RateLimit"] == '"test_burst";r=4;t=12'


def test_behind_a_trusted_proxy_only_the_proxy_entry_counts(settings) -> None:
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = APIClient(REMOTE_ADDR=PROXY)

    # The client wrote the left part; the proxy appended the real address.
    spoofed = [
        proxy.get(BURST, HTTP_X_FORWARDED_FOR=f"{VICTIM}, {ATTACKER}").status_code
        for _ in range(6)
    ]
    forged_chain = proxy.get(
        BURST, HTTP_X_FORWARDED_FOR=f"{VICTIM}, 192.0.2.77, {ATTACKER}"
    )
    victim = proxy.get(BURST, HTTP_X_FORWARDED_FOR=VICTIM)

    assert spoofed == [200] * 5 + [429]
    assert forged_chain.status_code == 429
    assert victim.status_code == 200
    assert victim["RateLimit"] == '"test_burst";r=4;t=12'


def test_it_lets_everything_through_when_disabled(api: APIClient, settings) -> None:
    settings.RATELIMIT_ENABLED = False

    responses = [api.get(BURST) for _ in range(20)]

    assert {response.status_code for response in responses} == {200}
    assert "RateLimit" not in responses[-1]


def test_an_env_style_rate_override_takes_effect(api: APIClient, settings) -> None:
    settings.RATELIMIT_RATES = {**settings.RATELIMIT_RATES, "test_burst": "2/1s"}

    assert _statuses(api, BURST, 3) == [200, 200, 429]


@pytest.mark.django_db
def test_login_is_limited_per_address_and_email(api: APIClient, user) -> None:
    wrong = {"email": user.email, "password": "not-the-password"}
    failures = [api.post(TOKEN, wrong).status_code for _ in range(5)]

    right_but_late = api.post(TOKEN, {"email": user.email, "password": PASSWORD})
    in_other_case = api.post(TOKEN, {**wrong, "email": user.email.upper()})
    other_email = api.post(TOKEN, {**wrong, "email": "someone@example.com"})
    other_address = APIClient(REMOTE_ADDR=VICTIM).post(
        TOKEN, {"email": user.email, "password": PASSWORD}
    )

    assert failures == [401] * 5
    assert right_but_late.status_code == 429
    assert in_other_case.status_code == 429
    assert other_email.status_code == 401
    assert other_address.status_code == 200


@pytest.mark.django_db
def test_login_is_limited_per_address_across_emails(api: APIClient) -> None:
    statuses = [
        api.post(TOKEN, {"email": f"u{n}@example.com", "password": "x"}).status_code
        for n in range(31)
    ]

    assert statuses == [401] * 30 + [429]


@pytest.mark.django_db
def test_a_malformed_login_body_is_a_400_and_still_counts(api: APIClient) -> None:
    response = api.post(TOKEN, b"{not json", content_type="application/json")
    after = api.post(TOKEN, {"email": "a@example.com", "password": "x"})

    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == "parse_error"
    assert after["RateLimit"].startswith('"login_ip";r=28;')


@pytest.mark.django_db
def test_login_reports_both_of_its_policies(api: APIClient, user) -> None:
    response = api.post(TOKEN, {"email": user.email, "password": PASSWORD})

    assert response.status_code == 200
    assert response["RateLimit-Policy"] == '"login_ip";q=30;w=60, "login";q=5;w=60'
    assert response["RateLimit"] == '"login_ip";r=29;t=2, "login";r=4;t=12'


@pytest.mark.django_db
def test_registration_is_limited_per_address(api: APIClient) -> None:
    statuses = [api.post(REGISTER, {}).status_code for _ in range(21)]
    elsewhere = APIClient(REMOTE_ADDR=VICTIM).post(REGISTER, {})

    assert statuses == [400] * 20 + [429]
    assert elsewhere.status_code == 400


def _forged_refresh(user_id: int) -> str:
    claims = {"token_type": "refresh", "user_id": str(user_id), "jti": "x"}
    return jwt.encode(claims, "k" * 64, algorithm="HS256")


@pytest.mark.django_db
def test_refresh_is_counted_per_token_owner(api: APIClient, settings) -> None:
    settings.RATELIMIT_RATES = {**settings.RATELIMIT_RATES, "refresh": "2/min"}
    alice, bob = UserFactory(), UserFactory()
    alices = str(RefreshToken.for_user(alice))
    bobs = str(RefreshToken.for_user(bob))

    alice_statuses = [
        api.post(REFRESH, {"refresh": alices}).status_code for _ in range(3)
    ]
    forged = [
        api.post(REFRESH, {"refresh": _forged_refresh(bob.pk)}).status_code
        for _ in range(3)
    ]
    bob_logout = api.post(LOGOUT, {"refresh": bobs})

    # Alice's token is used up by rotation; her third try is throttled.
    assert alice_statuses == [200, 401, 429]
    # Forged tokens count against the address, never against Bob.
    assert forged == [401, 401, 429]
    assert bob_logout.status_code == 204
