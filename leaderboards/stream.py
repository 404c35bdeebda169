"""Live leaderboard streams: Server-Sent Events over Redis pub/sub.

An ASGI application, served by uvicorn beside gunicorn (see the README),
so an open stream holds a coroutine, not a WSGI worker.

Per process there is one ``Hub``: one Redis pub/sub connection, subscribed
to the channel of each contest somebody watches, and a short buffer of
recent events per contest for clients that reconnect with
``Last-Event-ID``. Every subscriber has a bounded queue; a subscriber whose
queue fills (a slow or dead client) is dropped, so it never slows the rest.

Events (``event:`` name, JSON ``data:``):

- ``snapshot``: the top N and the total on connect (``resync: true`` when
  it replaces events that were missed), with the viewer's own rank.
- ``change``: one participant's new score, rank and old rank.
- ``you``: the authenticated viewer's own rank moved (their own change, or
  someone overtook them, or someone above fell behind).
- ``final``: the final standings; the stream then ends.

The freeze holds: once it starts, public subscribers get no changes; an
admin gets every change; a participant still gets their own.
"""

import asyncio
import json
import logging
import re
from collections import deque
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs

import redis.asyncio as aioredis
from django.conf import settings
from django.db import DatabaseError, connections
from redis.exceptions import RedisError
from rest_framework.exceptions import APIException

logger = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

PATH = re.compile(r"^/api/v1/contests/(?P<slug>[-a-zA-Z0-9_]+)/leaderboard/stream/$")
DEFAULT_TOP = 10
MAX_TOP = 100
# Queued by the hub for a quiet subscriber; the pump writes a comment line.
HEARTBEAT: dict[str, Any] = {"type": "heartbeat"}


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


@dataclass(eq=False)
class Subscriber:
    contest_id: int
    user_id: int | None
    is_admin: bool
    rank: int | None = None
    # The id of the last event this subscriber was sent (or shown, in a
    # snapshot); anything not newer is skipped.
    after: int = 0
    queue: asyncio.Queue[dict[str, Any]] = field(
        default_factory=lambda: asyncio.Queue(_setting("STREAM_QUEUE_SIZE", 256))
    )
    dropped: asyncio.Event = field(default_factory=asyncio.Event)
    # The task writing to this subscriber; cancelled when it is dropped.
    task: "asyncio.Task[None] | None" = None
    # When the pump last wrote to the client (event loop time).
    last_write: float = 0.0

    def offer(self, event: dict[str, Any]) -> None:
        """Queue an event, or drop this subscriber if it cannot keep up."""
        if self.dropped.is_set():
            return
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            logger.info(
                "stream subscriber dropped: queue full",
                extra={"contest_id": self.contest_id, "user_id": self.user_id},
            )
            self.dropped.set()
            if self.task is not None:
                self.task.cancel()


class Hub:
    """One pub/sub connection per process, shared by every subscriber."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.rooms: dict[int, set[Subscriber]] = {}
        self.buffers: dict[int, deque[dict[str, Any]]] = {}
        self._commands: asyncio.Queue[tuple[str, int]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._ready: dict[int, asyncio.Event] = {}
        self._shared: dict[tuple[int, int], asyncio.Future[Any]] = {}
        self._ever_connected = False
        self._beats: asyncio.Task[None] | None = None

    def channel(self, contest_id: int) -> str:
        return f"{settings.REDIS_KEY_PREFIX}:{{contest:{contest_id}}}:events"

    def _ensure_running(self) -> None:
        if self._task is None or self._task.done():
            self._task = self.loop.create_task(self._run())
        if self._beats is None or self._beats.done():
            self._beats = self.loop.create_task(self._heartbeats())

    async def _heartbeats(self) -> None:
        """Queue a heartbeat for every subscriber that has been quiet.

        One timer for the whole process: a timeout around each subscriber's
        wait cost a timer per subscriber per event, a good share of the
        fan-out's time. Quiet for half the interval at a tick that comes
        every half interval: no client waits longer than the interval.
        """
        while True:
            half = _setting("STREAM_HEARTBEAT_SECONDS", 15.0) / 2
            await asyncio.sleep(half)
            quiet_since = self.loop.time() - half
            for room in list(self.rooms.values()):
                for subscriber in list(room):
                    if (
                        subscriber.last_write <= quiet_since
                        and subscriber.queue.empty()
                    ):
                        subscriber.offer(HEARTBEAT)

    async def join(self, subscriber: Subscriber, *, timeout: float = 2.0) -> bool:
        """Add a subscriber; True once its contest's channel is subscribed."""
        self._ensure_running()
        room = self.rooms.setdefault(subscriber.contest_id, set())
        ready = self._ready.setdefault(subscriber.contest_id, asyncio.Event())
        if not room:
            self._commands.put_nowait(("subscribe", subscriber.contest_id))
        room.add(subscriber)
        try:
            await asyncio.wait_for(ready.wait(), timeout)
        except TimeoutError:
            return False
        return True

    async def shared(
        self, key: tuple[int, int], compute: Callable[[], Awaitable[Any]]
    ) -> Any:
        """Compute a value once for every subscriber that needs it at once."""
        future = self._shared.get(key)
        if future is None:
            future = asyncio.get_running_loop().create_future()
            self._shared[key] = future
            try:
                future.set_result(await compute())
            except Exception as exc:  # noqa: BLE001 - handed to every waiter
                future.set_exception(exc)
            finally:
                asyncio.get_running_loop().call_later(5, self._shared.pop, key, None)
        return await future

    def leave(self, subscriber: Subscriber) -> None:
        room = self.rooms.get(subscriber.contest_id)
        if room is None:
            return
        room.discard(subscriber)
        if not room:
            del self.rooms[subscriber.contest_id]
            self._ready.pop(subscriber.contest_id, None)
            self._commands.put_nowait(("unsubscribe", subscriber.contest_id))

    def missed_since(
        self, contest_id: int, last_id: int
    ) -> list[dict[str, Any]] | None:
        """Buffered events after ``last_id``, or None if some were lost."""
        buffer = self.buffers.get(contest_id)
        if not buffer or buffer[0]["id"] > last_id + 1 or last_id > buffer[-1]["id"]:
            return None
        return [event for event in buffer if event["id"] > last_id]

    async def _run(self) -> None:
        """Own the pub/sub connection: (re)subscribe, read, dispatch."""
        delay = 0.1
        while True:
            client = aioredis.Redis.from_url(
                settings.CACHES["default"]["LOCATION"],
                socket_timeout=None,
                socket_connect_timeout=settings.REDIS_CONNECT_TIMEOUT,
                health_check_interval=15,
            )
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            try:
                await self._serve(pubsub, resubscribe=list(self.rooms))
            except (RedisError, OSError) as exc:
                for ready in self._ready.values():
                    ready.clear()
                logger.warning("stream hub lost Redis, reconnecting: %s", exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
            else:  # pragma: no cover - _serve only returns by raising
                delay = 0.1
            finally:
                await _quietly(pubsub.aclose())  # type: ignore[no-untyped-call]
                await _quietly(client.aclose())

    async def _serve(self, pubsub: Any, *, resubscribe: list[int]) -> None:
        channels = {self.channel(contest_id) for contest_id in resubscribe}
        # A dedicated channel keeps the connection subscribed (and so
        # readable) even while no contest is watched.
        await pubsub.subscribe(f"{settings.REDIS_KEY_PREFIX}:stream-hub", *channels)
        for contest_id in resubscribe:
            self._mark_ready(contest_id)
        if self._ever_connected:
            # Events published while disconnected are lost: start clients over.
            for contest_id in resubscribe:
                self.buffers.pop(contest_id, None)
                self._broadcast(contest_id, {"type": "reset"})
            logger.info("stream hub reconnected to Redis")
        self._ever_connected = True
        while True:
            await self._apply_commands(pubsub)
            message = await pubsub.get_message(timeout=0.2)
            if message is not None and message.get("type") == "message":
                self._dispatch(message)

    async def _apply_commands(self, pubsub: Any) -> None:
        while not self._commands.empty():
            verb, contest_id = self._commands.get_nowait()
            # A room emptied and refilled before this ran keeps its channel.
            wanted = contest_id in self.rooms
            if verb == "subscribe" and wanted:
                await pubsub.subscribe(self.channel(contest_id))
                self._mark_ready(contest_id)
            elif verb == "unsubscribe" and not wanted:
                await pubsub.unsubscribe(self.channel(contest_id))
                self.buffers.pop(contest_id, None)

    def _mark_ready(self, contest_id: int) -> None:
        ready = self._ready.get(contest_id)
        if ready is not None:
            ready.set()

    def _dispatch(self, message: dict[str, Any]) -> None:
        channel = message["channel"]
        channel = channel.decode() if isinstance(channel, bytes) else channel
        match = re.search(r"\{contest:(\d+)\}", channel)
        if match is None:
            return
        try:
            event = json.loads(message["data"])
        except (TypeError, ValueError):
            logger.warning("stream hub: unreadable event on %s", channel)
            return
        contest_id = int(match.group(1))
        buffer = self.buffers.setdefault(
            contest_id, deque(maxlen=_setting("STREAM_BUFFER_SIZE", 1000))
        )
        if buffer and event.get("id", 0) != buffer[-1]["id"] + 1:
            # A gap (a lost message, a Redis restart): older events cannot be
            # replayed contiguously any more.
            buffer.clear()
        buffer.append(event)
        self._broadcast(contest_id, event)

    def _broadcast(self, contest_id: int, event: dict[str, Any]) -> None:
        for subscriber in list(self.rooms.get(contest_id, ())):
            subscriber.offer(event)


async def _quietly(awaitable: Awaitable[Any]) -> None:
    try:
        await awaitable
    except (RedisError, OSError, RuntimeError):
        return


_hub: Hub | None = None


def get_hub() -> Hub:
    """The hub of the running event loop (one per server process)."""
    global _hub
    loop = asyncio.get_running_loop()
    if _hub is None or _hub.loop is not loop:
        _hub = Hub(loop)
    return _hub


# --- What a subscriber is told ----------------------------------------------


def _you(subscriber: Subscriber, event: dict[str, Any]) -> dict[str, Any] | None:
    """Update the subscriber's own rank from a change; describe the move.

    Exact under ``ties=earliest``; under ``shared`` a move among equal
    scores can be off by the size of the tie until the next snapshot.
    TODO(when shared-ties streams need exact personal ranks): recompute
    them with one ZCOUNT per affected subscriber.
    """
    user_id, before = subscriber.user_id, subscriber.rank
    new, old = event.get("rank"), event.get("old_rank")
    if user_id is None:
        return None
    if event.get("user_id") == user_id:
        subscriber.rank = new
        return {"id": event["id"], "from": old, "to": new, "score": event["score"]}
    if before is None:
        return None
    if new is not None and new <= before and (old is None or old > before):
        subscriber.rank = before + 1
        overtaker = {"user_id": event["user_id"], "display_name": event["display_name"]}
        return {"id": event["id"], "from": before, "to": before + 1, "by": overtaker}
    if old is not None and old < before and (new is None or new > before):
        subscriber.rank = before - 1
        return {"id": event["id"], "from": before, "to": before - 1}
    return None


def messages_for(
    subscriber: Subscriber, event: dict[str, Any]
) -> list[tuple[str, dict[str, Any]]]:
    """The SSE events one subscriber gets for one published change."""
    mine = event.get("user_id") == subscriber.user_id
    you = _you(subscriber, event)
    hidden_from_public = event.get("frozen") or event.get("hidden")
    out: list[tuple[str, dict[str, Any]]] = []
    if subscriber.is_admin or mine or not hidden_from_public:
        out.append(("change", event))
    # During the freeze a participant hears only of their own moves.
    if you is not None and (mine or subscriber.is_admin or not event.get("frozen")):
        out.append(("you", you))
    return out


def sse(event: str, data: dict[str, Any], event_id: int | None = None) -> bytes:
    lines = []
    if event_id is not None:
        lines.append(f"id: {event_id}")
    lines.append(f"event: {event}")
    lines.append("data: " + json.dumps(data, separators=(",", ":"), default=str))
    return ("\n".join(lines) + "\n\n").encode()


# --- Connect-time work, in threads (Django ORM and sync Redis) -------------


def _in_thread(function: Callable[[], Any]) -> Any:
    try:
        return function()
    finally:
        # Give the pooled connection back; the thread may never run again.
        connections.close_all()


async def run_sync(function: Callable[[], Any]) -> Any:
    return await asyncio.to_thread(_in_thread, function)


@dataclass
class Opening:
    status: int
    body: dict[str, Any] | None = None
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    contest: Any = None
    user_id: int | None = None
    is_admin: bool = False
    final: dict[str, Any] | None = None


def _client_meta(scope: Scope) -> dict[str, str]:
    headers = {k.decode().lower(): v.decode("latin-1") for k, v in scope["headers"]}
    client = scope.get("client") or ("", 0)
    meta = {"REMOTE_ADDR": client[0]}
    if "x-forwarded-for" in headers:
        meta["HTTP_X_FORWARDED_FOR"] = headers["x-forwarded-for"]
    return meta


def _open(scope: Scope, slug: str, top: int) -> Opening:
    """Authenticate, rate-limit and find the contest."""
    from contestplatform.errors import error_body
    from contests.models import State
    from contests.selectors import contest_get

    headers = {k.decode().lower(): v.decode("latin-1") for k, v in scope["headers"]}
    try:
        user = _authenticate(headers.get("authorization"))
    except PermissionError as exc:
        return Opening(
            401,
            error_body("token_not_valid", str(exc)),
            [(b"www-authenticate", b'Bearer realm="api"')],
        )
    refused = _throttle(scope, user)
    if refused is not None:
        return refused
    is_admin = bool(user and user.is_admin)
    contest = contest_get(slug=slug)
    if contest is None or (contest.published_at is None and not is_admin):
        return Opening(
            404, error_body("contest_not_found", "No contest has this slug.")
        )
    if contest.state == State.CANCELLED:
        return Opening(
            409, error_body("contest_cancelled", "The contest was cancelled.")
        )
    if contest.state == State.FINALIZED:
        return Opening(200, contest=contest, final=final_standings(contest, top))
    return Opening(
        200, contest=contest, user_id=user.pk if user else None, is_admin=is_admin
    )


def _authenticate(header: str | None) -> Any:
    if not header:
        return None
    from rest_framework.exceptions import AuthenticationFailed

    from accounts.authentication import UserStateJWTAuthentication

    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise PermissionError("Send the access token as: Bearer <token>.")
    auth = UserStateJWTAuthentication()
    try:
        validated = auth.get_validated_token(token.encode())
        return auth.get_user(validated)
    except AuthenticationFailed as exc:
        raise PermissionError("The access token is invalid or expired.") from exc
    except Exception as exc:  # SimpleJWT raises kinds of its own
        raise PermissionError("The access token is invalid or expired.") from exc


def _throttle(scope: Scope, user: Any) -> Opening | None:
    from contestplatform.errors import error_body
    from ratelimit.identity import client_ip
    from ratelimit.limiter import LimiterUnavailableError, bucket_hit
    from ratelimit.rates import rate_for

    if not settings.RATELIMIT_ENABLED:
        return None
    if user is not None:
        identity = f"user:{user.pk}"
    else:
        identity = f"ip:{client_ip(SimpleNamespace(META=_client_meta(scope)))}"  # type: ignore[arg-type]
    try:
        decision = bucket_hit(
            scope="stream_connect", identity=identity, rate=rate_for("stream_connect")
        )
    except LimiterUnavailableError:
        return None  # Reads fail open; the limiter logs the outage.
    if decision.allowed:
        return None
    wait = str(max(1, int(decision.reset + 0.999)))
    return Opening(
        429,
        error_body("throttled", f"Too many stream connections; retry in {wait} s."),
        [(b"retry-after", wait.encode())],
    )


def _row(row: Any) -> dict[str, Any]:
    return {
        "rank": row.rank,
        "user_id": row.user_id,
        "display_name": row.display_name,
        "score": row.score,
        "reached_at": row.reached_at.isoformat().replace("+00:00", "Z"),
    }


def snapshot_of(
    contest: Any, user_id: int | None, is_admin: bool, top: int
) -> tuple[dict[str, Any], int | None]:
    from contests.models import State

    from . import board, selectors

    viewer = selectors.Viewer(user_id=user_id, is_admin=is_admin, live=is_admin)
    page = selectors.leaderboard_page(
        contest=contest, viewer=viewer, offset=0, limit=top
    )
    seq = board.client().get(board.Keys.of(contest.pk).seq)
    me = None
    rank = None
    if user_id is not None:
        mine = selectors.leaderboard_me(
            contest=contest,
            viewer=selectors.Viewer(user_id=user_id, is_admin=is_admin),
            neighbours=0,
        )
        rank = mine.rank
        me = {"rank": mine.rank, "score": mine.score}
    frozen = contest.state == State.FROZEN and not is_admin
    body = {
        "id": int(seq or 0),
        "total": page.total,
        "top": [_row(row) for row in page.rows],
        "frozen": frozen,
        "me": me,
    }
    return body, rank


def final_standings(contest: Any, top: int) -> dict[str, Any]:
    from . import selectors

    viewer = selectors.Viewer(user_id=None, is_admin=False)
    page = selectors.leaderboard_page(
        contest=contest, viewer=viewer, offset=0, limit=top
    )
    return {"total": page.total, "top": [_row(row) for row in page.rows]}


# --- The ASGI application ---------------------------------------------------


async def _respond_json(send: Send, opening: Opening) -> None:
    body = json.dumps(opening.body).encode()
    headers = [(b"content-type", b"application/json"), *opening.headers]
    await send(
        {"type": "http.response.start", "status": opening.status, "headers": headers}
    )
    await send({"type": "http.response.body", "body": body})


def _query(scope: Scope) -> tuple[int, int | None] | str:
    params = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    raw_top = (params.get("top") or [str(DEFAULT_TOP)])[0]
    try:
        top = min(max(int(raw_top), 1), MAX_TOP)
    except ValueError:
        return "top"
    headers = {k.decode().lower(): v.decode("latin-1") for k, v in scope["headers"]}
    raw_last = headers.get("last-event-id") or (params.get("last_event_id") or [""])[0]
    if not raw_last:
        return top, None
    try:
        return top, int(raw_last)
    except ValueError:
        return "Last-Event-ID"


async def stream_app(scope: Scope, receive: Receive, send: Send, slug: str) -> None:
    from contestplatform.errors import error_body

    if scope["method"] not in ("GET", "HEAD"):
        detail = f'Method "{scope["method"]}" not allowed.'
        body = error_body("method_not_allowed", detail)
        await _respond_json(send, Opening(405, body, [(b"allow", b"GET, HEAD")]))
        return
    parsed = _query(scope)
    if isinstance(parsed, str):
        body = {
            "type": "validation_error",
            "errors": [
                {"code": "invalid", "detail": "An integer is required.", "attr": parsed}
            ],
        }
        await _respond_json(send, Opening(400, body))
        return
    top, last_id = parsed
    try:
        opening = await run_sync(lambda: _open(scope, slug, top))
    except Exception:
        logger.exception("stream: could not open")
        body = error_body(
            "service_unavailable", "The stream is unavailable; retry.", server=True
        )
        await _respond_json(send, Opening(503, body, [(b"retry-after", b"2")]))
        return
    if opening.status != 200:
        await _respond_json(send, opening)
        return
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"text/event-stream"),
                (b"cache-control", b"no-cache"),
                (b"x-accel-buffering", b"no"),
            ],
        }
    )
    if opening.final is not None:
        await _send_body(send, sse("final", opening.final), more=False)
        return
    await _follow(receive, send, opening, slug, top, last_id)


async def _send_body(send: Send, chunk: bytes, *, more: bool = True) -> None:
    await send({"type": "http.response.body", "body": chunk, "more_body": more})


async def _follow(
    receive: Receive,
    send: Send,
    opening: Opening,
    slug: str,
    top: int,
    last_id: int | None,
) -> None:
    contest = opening.contest
    subscriber = Subscriber(contest.pk, opening.user_id, opening.is_admin)
    loop = asyncio.get_running_loop()
    disconnected = loop.create_task(_wait_disconnect(receive))
    try:
        # Subscribe before reading the snapshot, so no event falls between.
        if not await get_hub().join(subscriber):
            await _send_body(
                send, sse("error", {"code": "service_unavailable"}), more=False
            )
            return
        if await _greet(send, subscriber, contest, slug, top, last_id):
            subscriber.last_write = loop.time()
            pump = subscriber.task = loop.create_task(
                _pump(send, subscriber, slug, top)
            )
            await asyncio.wait(
                {pump, disconnected}, return_when=asyncio.FIRST_COMPLETED
            )
            pump.cancel()
            if pump.done() and not pump.cancelled():
                pump.result()  # re-raise what ended it, if anything
    except OSError:
        return
    except (APIException, RedisError, DatabaseError) as exc:
        # The headers are sent: end with an error event; the client's
        # reconnect (with Last-Event-ID) starts it over.
        logger.warning("stream ended by an error: %s", exc)
        body = {"code": getattr(exc, "default_code", "service_unavailable")}
        await _send_body(send, sse("error", body), more=False)
    finally:
        get_hub().leave(subscriber)
        disconnected.cancel()


async def _greet(
    send: Send,
    subscriber: Subscriber,
    contest: Any,
    slug: str,
    top: int,
    last_id: int | None,
) -> bool:
    """Send the snapshot, or what a reconnecting client missed; False: done."""
    missed = None
    if last_id is not None:
        missed = get_hub().missed_since(subscriber.contest_id, last_id)
    if missed is not None:
        # Replaying needs the viewer's rank before the first missed event;
        # the current rank minus what those events did is not knowable, so
        # the personal rank restarts from the board as it is now.
        _snapshot, subscriber.rank = await run_sync(
            lambda: snapshot_of(contest, subscriber.user_id, subscriber.is_admin, top)
        )
        subscriber.after = last_id or 0
        for event in missed:
            if not await _handle(send, subscriber, event, slug, top):
                return False
        return True
    await _send_snapshot(send, subscriber, contest, top, resync=last_id is not None)
    return True


async def _send_snapshot(
    send: Send, subscriber: Subscriber, contest: Any, top: int, *, resync: bool
) -> None:
    snapshot, subscriber.rank = await run_sync(
        lambda: snapshot_of(contest, subscriber.user_id, subscriber.is_admin, top)
    )
    subscriber.after = (
        snapshot["id"] if resync else max(subscriber.after, snapshot["id"])
    )
    snapshot["resync"] = resync
    await _send_body(send, sse("snapshot", snapshot, snapshot["id"]))


async def _wait_disconnect(receive: Receive) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return


async def _pump(send: Send, subscriber: Subscriber, slug: str, top: int) -> None:
    """Write queued events (and the hub's heartbeats) to the client.

    Runs as a task of its own: a disconnect or a full queue cancels it.
    """
    loop = asyncio.get_running_loop()
    while True:
        event = await subscriber.queue.get()
        if event is HEARTBEAT:
            await _send_body(send, b": heartbeat\n\n")
        elif not await _handle(send, subscriber, event, slug, top):
            return
        subscriber.last_write = loop.time()


async def _handle(
    send: Send, subscriber: Subscriber, event: dict[str, Any], slug: str, top: int
) -> bool:
    """Send what one event means for this subscriber; False ends the stream."""
    kind = event.get("type")
    if kind == "change":
        await _deliver(send, subscriber, event)
        return True
    if kind == "reset" and "id" in event and int(event["id"]) <= subscriber.after:
        return True  # The snapshot this subscriber got is already as new.
    from contests.selectors import contest_get

    contest = await run_sync(lambda: contest_get(slug=slug))
    if contest is None:
        return False
    if kind == "cancelled":
        await _send_body(send, sse("cancelled", {}, event.get("id")), more=False)
        return False
    if kind == "final":
        key = (subscriber.contest_id, int(event.get("id") or 0))
        standings = await get_hub().shared(
            key, lambda: run_sync(lambda: final_standings(contest, top))
        )
        await _send_body(send, sse("final", standings, event.get("id")), more=False)
        return False
    if kind == "reset":
        try:
            await _send_snapshot(send, subscriber, contest, top, resync=True)
        except RedisError:
            # Redis went away again; the hub resets once it is back.
            logger.info("stream: snapshot failed after a reset; waiting")
    return True


async def _deliver(send: Send, subscriber: Subscriber, event: dict[str, Any]) -> None:
    event_id = int(event.get("id") or 0)
    if event_id <= subscriber.after:
        return
    subscriber.after = event_id
    for name, data in messages_for(subscriber, event):
        if name == "change":
            # The same bytes for every subscriber: encode once per event.
            encoded = event.get("_encoded")
            if encoded is None:
                public = {k: v for k, v in event.items() if not k.startswith("_")}
                encoded = event["_encoded"] = sse(name, public, event_id)
            await _send_body(send, encoded)
        else:
            await _send_body(send, sse(name, data, event_id))


def route(scope: Scope) -> str | None:
    """The contest slug if this request is for a stream, else None."""
    if scope["type"] != "http":
        return None
    match = PATH.match(scope["path"])
    return match.group("slug") if match else None
