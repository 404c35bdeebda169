"""One refresh token used at once from several processes: one use wins.

accounts/tests/test_tokens.py races threads of one process; here the
requests go to gunicorn workers, each with its own database connections,
as they would in production.
"""

import threading

import pytest
from rest_framework_simplejwt.tokens import RefreshToken

from accounts.tests.factories import UserFactory
from tests.support import AppServer, Reply

pytestmark = pytest.mark.django_db(transaction=True)

REFRESH = "/api/v1/auth/token/refresh/"
LOGOUT = "/api/v1/auth/logout/"
RACERS = 12


def _race(server: AppServer, calls: list[tuple[str, str]]) -> list[tuple[str, Reply]]:
    barrier = threading.Barrier(len(calls))
    results: list[tuple[str, Reply]] = []
    lock = threading.Lock()

    def run(path: str, token: str) -> None:
        barrier.wait(timeout=10)
        reply = server.http.post(path, {"refresh": token})
        with lock:
            results.append((path, reply))

    threads = [threading.Thread(target=run, args=call) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    return results


def test_concurrent_refreshes_across_processes_let_exactly_one_through(
    app_server: AppServer,
) -> None:
    refresh = str(RefreshToken.for_user(UserFactory()))

    results = _race(app_server, [(REFRESH, refresh)] * RACERS)

    statuses = sorted(reply.status for _, reply in results)
    assert statuses == [200] + [401] * (RACERS - 1)
    winner = next(reply for _, reply in results if reply.status == 200)
    # The winner's new token works; the raced one stays dead.
    assert app_server.http.post(REFRESH, {"refresh": winner.body["refresh"]}).status
    assert app_server.http.post(REFRESH, {"refresh": refresh}).status == 401


def test_refresh_racing_logout_lets_at_most_one_use_of_the_token(
    app_server: AppServer,
) -> None:
    refresh = str(RefreshToken.for_user(UserFactory()))
    calls = [(REFRESH, refresh), (LOGOUT, refresh)] * (RACERS // 2)

    results = _race(app_server, calls)

    won = [(path, reply.status) for path, reply in results if reply.status < 300]
    assert len(won) == 1, won
    assert {reply.status for _, reply in results if reply.status >= 300} == {401}
