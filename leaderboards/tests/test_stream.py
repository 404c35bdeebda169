"""Live streams over a real uvicorn server and a real HTTP connection."""

import http.client
import json
import threading
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import uvicorn
from django.utils import timezone

from accounts.models import Role
from accounts.tests.factories import UserFactory
from conftest import token_for
from contestplatform.asgi import application
from contestplatform.testing import RedisProcess, free_port
from leaderboards import board, services, stream
from leaderboards.tests.conftest import make_contest, submit

pytestmark = pytest.mark.django_db(transaction=True)

WAIT = 10.0  # seconds any expected event may take, at most


class StreamServer:
    def __init__(self) -> None:
        self.port = free_port()
        config = uvicorn.Config(
            application,
            host="127.0.0.1",
            port=self.port,
            lifespan="off",
            log_level="warning",
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> "StreamServer":
        self.thread.start()
        deadline = time.monotonic() + WAIT
        while not self.server.started:
            assert time.monotonic() < deadline, "the stream server did not start"
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=WAIT)


class Client:
    """Read Server-Sent Events from one real HTTP connection."""

    def __init__(
        self,
        port: int,
        slug: str,
        *,
        token: str | None = None,
        last_id: int | None = None,
        top: int = 10,
    ) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=WAIT)
        headers = {"Accept": "text/event-stream"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if last_id is not None:
            headers["Last-Event-ID"] = str(last_id)
        self.conn.request(
            "GET",
            f"/api/v1/contests/{slug}/leaderboard/stream/?top={top}",
            headers=headers,
        )
        self.response = self.conn.getresponse()

    def next(self, within: float = WAIT) -> dict[str, Any]:
        """The next event (heartbeats skipped) as {event, id, data}."""
        event = self.next_or_none(within)
        assert event is not None, f"no event within {within} s"
        return event

    def next_or_none(self, within: float) -> dict[str, Any] | None:
        """The next event, or None if only heartbeats come for ``within`` s."""
        deadline = time.monotonic() + within
        event: dict[str, Any] = {}
        while time.monotonic() < deadline:
            line = self.response.readline().decode()
            assert line, "the stream ended"
            line = line.rstrip("\n")
            if line.startswith(":"):
                continue
            if not line:
                if event:
                    return event
                continue
            name, _, value = line.partition(": ")
            event[name] = json.loads(value) if name == "data" else value
        return None

    def until(self, name: str) -> dict[str, Any]:
        while True:
            event = self.next()
            if event["event"] == name:
                return event

    def close(self) -> None:
        self.conn.close()


@pytest.fixture
def server(settings) -> Iterator[StreamServer]:
    settings.STREAM_HEARTBEAT_SECONDS = 0.2
    with StreamServer() as running:
        yield running


def _rows(event: dict[str, Any]) -> list[tuple[int, int, int]]:
    return [(r["user_id"], r["score"], r["rank"]) for r in event["data"]["top"]]


def test_a_client_reads_the_snapshot_then_changes_in_order(server) -> None:
    contest = make_contest()
    first, second = UserFactory.create_batch(2)
    submit(contest, first, 10)
    client = Client(server.port, contest.slug)

    snapshot = client.next()
    submit(contest, second, 20)
    submit(contest, first, 30)
    changes = [client.until("change"), client.until("change")]

    assert snapshot["event"] == "snapshot"
    assert _rows(snapshot) == [(first.pk, 10, 1)]
    assert snapshot["data"]["total"] == 1
    assert [
        (c["data"]["user_id"], c["data"]["rank"], c["data"]["old_rank"])
        for c in changes
    ] == [(second.pk, 1, None), (first.pk, 1, 2)]
    ids = [int(snapshot["id"])] + [int(c["id"]) for c in changes]
    assert ids == sorted(ids)
    assert len(set(ids)) == 3
    client.close()


def test_a_participant_hears_of_their_own_moves(server) -> None:
    contest = make_contest()
    me, rival = UserFactory.create_batch(2)
    submit(contest, me, 50)
    client = Client(server.port, contest.slug, token=token_for(me))
    assert client.next()["data"]["me"] == {"rank": 1, "score": 50}

    submit(contest, rival, 60)
    overtaken = client.until("you")
    submit(contest, me, 70)
    regained = client.until("you")

    assert overtaken["data"] == {
        "id": overtaken["data"]["id"],
        "from": 1,
        "to": 2,
        "by": {"user_id": rival.pk, "display_name": rival.display_name},
    }
    assert (regained["data"]["from"], regained["data"]["to"]) == (2, 1)
    client.close()


def test_a_reconnect_with_last_event_id_gets_what_it_missed(server) -> None:
    contest = make_contest()
    users = UserFactory.create_batch(3)
    submit(contest, users[0], 1)
    watcher = Client(server.port, contest.slug)  # keeps the contest buffered
    seen = watcher.next()
    first = Client(server.port, contest.slug)
    last = int(first.next()["id"])
    first.close()

    submit(contest, users[1], 2)
    submit(contest, users[2], 3)
    assert watcher.until("change")["data"]["user_id"] == users[1].pk
    assert watcher.until("change")["data"]["user_id"] == users[2].pk
    again = Client(server.port, contest.slug, last_id=last)
    replayed = [again.next(), again.next()]
    gap = Client(server.port, contest.slug, last_id=-50)

    assert seen["event"] == "snapshot"
    assert [e["event"] for e in replayed] == ["change", "change"]
    assert [e["data"]["user_id"] for e in replayed] == [users[1].pk, users[2].pk]
    resynced = gap.next()
    assert resynced["event"] == "snapshot"
    assert resynced["data"]["resync"] is True
    for client in (watcher, again, gap):
        client.close()


def test_the_freeze_hides_changes_from_the_public_only(server) -> None:
    contest = make_contest()
    player, other = UserFactory.create_batch(2)
    admin = UserFactory(role=Role.ADMIN)
    submit(contest, player, 10)
    submit(contest, other, 5)
    contest.freeze_at = timezone.now()
    contest.save()
    public = Client(server.port, contest.slug)
    mine = Client(server.port, contest.slug, token=token_for(player))
    live = Client(server.port, contest.slug, token=token_for(admin))
    for client in (public, mine, live):
        assert client.next()["event"] == "snapshot"

    submit(contest, other, 50)
    submit(contest, player, 90)

    admin_sees = [
        live.until("change")["data"]["user_id"],
        live.until("change")["data"]["user_id"],
    ]
    own = mine.until("change")
    assert admin_sees == [other.pk, player.pk]
    assert own["data"]["user_id"] == player.pk
    # The public stream carries nothing but heartbeats until finalize.
    assert public.next_or_none(within=1.0) is None
    for client in (public, mine, live):
        client.close()


def test_finalize_sends_the_standings_and_ends_the_stream(server) -> None:
    contest = make_contest()
    user = UserFactory()
    submit(contest, user, 42)
    client = Client(server.port, contest.slug)
    client.next()

    contest.ends_at = timezone.now() - timedelta(seconds=1)
    contest.save()
    services.contest_finalize(contest=contest)
    final = client.until("final")

    assert _rows(final) == [(user.pk, 42, 1)]
    assert client.response.readline() == b""
    client.close()


def test_a_disconnected_client_frees_its_place(server) -> None:
    contest = make_contest()
    client = Client(server.port, contest.slug)
    client.next()
    assert _subscribers(contest.pk) == 1

    client.close()
    submit(contest, UserFactory(), 1)  # the next write finds the socket closed

    deadline = time.monotonic() + WAIT
    while _subscribers(contest.pk):
        assert time.monotonic() < deadline, "the subscriber was never dropped"
        time.sleep(0.05)


def _subscribers(contest_id: int) -> int:
    hub = stream._hub
    return len(hub.rooms.get(contest_id, ())) if hub else 0


def test_errors_before_the_stream_use_the_error_shape(server) -> None:
    contest = make_contest()

    missing = Client(server.port, "no-such-contest")
    bad_token = Client(server.port, contest.slug, token="not-a-jwt")

    assert missing.response.status == 404
    assert (
        json.loads(missing.response.read())["errors"][0]["code"] == "contest_not_found"
    )
    assert bad_token.response.status == 401
    assert bad_token.response.getheader("WWW-Authenticate")


def test_subscribers_recover_when_redis_restarts(settings) -> None:
    settings.STREAM_HEARTBEAT_SECONDS = 0.2
    with RedisProcess() as redis_server:
        caches = {**settings.CACHES}
        caches["default"] = {**caches["default"], "LOCATION": redis_server.url}
        settings.CACHES = caches
        board._scripts._scripts.clear()
        with StreamServer() as server:
            contest = make_contest()
            user = UserFactory()
            submit(contest, user, 5)
            client = Client(server.port, contest.slug)
            assert client.next()["event"] == "snapshot"

            redis_server.stop()
            redis_server.start()
            board._scripts._scripts.clear()
            resync = client.until("snapshot")
            submit(contest, user, 9)
            change = client.until("change")

            assert resync["data"]["resync"] is True
            assert _rows(resync) == [(user.pk, 5, 1)]
            assert change["data"]["score"] == 9
            client.close()
    board._scripts._scripts.clear()
