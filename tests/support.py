"""Real processes and checks for the reliability and security suites.

- ``TcpProxy``: forwards a local port to PostgreSQL; ``cut()`` drops every
  connection and refuses new ones until ``restore()``.
- ``AppServer``: the API under gunicorn in processes of its own, pointed at
  the test database (through a proxy if asked) and at a given Redis.
- ``Http``: a small client for it, one connection per call.
- ``seed_board``: thousands of participants written in a few statements.
- ``ledger_problems`` and ``board_problems``: what the fault tests count.

Everything listens on and talks to 127.0.0.1 only.
"""

import contextlib
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from django.db import connection
from django.utils import timezone

from accounts.models import User
from contestplatform.testing import free_port
from contests.models import Contest, Order, Participation, Scoring
from leaderboards import board, services
from leaderboards.models import Entry, Kind, Outcome, Submission

ROOT = Path(__file__).resolve().parent.parent
LOCAL = "127.0.0.1"
# The application name of the test server's database connections, so a
# test can terminate exactly those backends.
APP_NAME = "cp-fault-app"


class TcpProxy:
    """A TCP forwarder from a spare local port to ``target``.

    The target is a local TCP port, or the path of a Unix socket (the
    embedded PostgreSQL of ``make test`` listens on one only).
    """

    def __init__(self, target: int | str, *, port: int | None = None) -> None:
        self.target = target
        self.port = port or free_port()
        self._listener: socket.socket | None = None
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()

    def start(self) -> "TcpProxy":
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((LOCAL, self.port))
        listener.listen(64)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return self

    def cut(self) -> None:
        """Drop every open connection and refuse new ones."""
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        with self._lock:
            doomed, self._sockets = self._sockets, set()
        for sock in doomed:
            _close(sock)

    def restore(self) -> None:
        self.start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = self._connect_upstream()
            except OSError:
                _close(client)
                continue
            with self._lock:
                if self._listener is not listener:
                    _close(client)
                    _close(upstream)
                    return
                self._sockets |= {client, upstream}
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(
                    target=self._pump, args=(source, sink), daemon=True
                ).start()

    def _connect_upstream(self) -> socket.socket:
        if isinstance(self.target, int):
            return socket.create_connection((LOCAL, self.target), 3)
        upstream = socket.socket(socket.AF_UNIX)
        upstream.settimeout(3)
        upstream.connect(self.target)
        upstream.settimeout(None)
        return upstream

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        finally:
            _close(source)
            _close(sink)

    def __enter__(self) -> "TcpProxy":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.cut()


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


def database_target() -> int | str:
    """Where the test database listens: a TCP port, or a Unix socket's path."""
    db = connection.settings_dict
    port = int(db["PORT"] or 5432)
    host = str(db["HOST"] or "")
    return f"{host}/.s.PGSQL.{port}" if host.startswith("/") else port


def database_url(*, port: int | None = None, application_name: str = "") -> str:
    """The URL of the database the tests run on, optionally via another port."""
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    target = database_target()
    if port is None and isinstance(target, str):
        # A socket folder goes in the path, where django-environ decodes it.
        socket_dir = quote(str(db["HOST"]), safe="")
        url = f"postgres://{auth}@/{socket_dir}/{db['NAME']}"
    else:
        url = f"postgres://{auth}@{LOCAL}:{port or target}/{db['NAME']}"
    return url + (f"?application_name={application_name}" if application_name else "")


GENEROUS_RATES = {
    "RATELIMIT_RATE_SUBMISSION": "100000/1s",
    "RATELIMIT_RATE_READ": "100000/1s",
    "RATELIMIT_RATE_ADMIN_WRITE": "100000/1s",
    "RATELIMIT_RATE_USER_WRITE": "100000/1s",
    "RATELIMIT_RATE_REFRESH": "100000/1s",
    "RATELIMIT_RATE_LOGIN": "100000/1s",
    "RATELIMIT_RATE_LOGIN_IP": "100000/1s",
}


class AppServer:
    """The API under gunicorn (gthread), in processes the test owns."""

    def __init__(
        self,
        *,
        database_url: str,
        redis_url: str,
        workers: int = 2,
        threads: int = 4,
        env: dict[str, str] | None = None,
    ) -> None:
        self.port = free_port()
        self._dir = Path(tempfile.mkdtemp(prefix="cp-app-"))
        self.log = self._dir / "gunicorn.log"
        self._env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "contestplatform.settings.test",
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "LOG_LEVEL": "WARNING",
            **GENEROUS_RATES,
            **(env or {}),
        }
        # The project's gunicorn.conf.py is for serving; this one is fixed.
        self._config = self._dir / "gunicorn_test.py"
        self._config.write_text(
            f"bind = '{LOCAL}:{self.port}'\n"
            f"workers = {workers}\nthreads = {threads}\n"
            "worker_class = 'gthread'\ntimeout = 30\ngraceful_timeout = 5\n"
            "control_socket_disable = True\naccesslog = None\n"
            f"errorlog = '{self.log}'\nloglevel = 'warning'\n"
        )
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> "AppServer":
        gunicorn = shutil.which("gunicorn", path=str(Path(sys.executable).parent))
        with self.log.open("ab") as log:
            self._process = subprocess.Popen(  # noqa: S603 - fixed arguments
                [
                    gunicorn or "gunicorn",
                    *("-c", str(self._config)),
                    "contestplatform.wsgi:application",
                ],
                cwd=ROOT,
                env=self._env,
                stdout=log,
                stderr=log,
            )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {self.log.read_text()}")
            try:
                if self.http.get("/healthz").status == 200:
                    return self
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"gunicorn did not start: {self.log.read_text()}")

    @property
    def http(self) -> "Http":
        return Http(self.port)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=10)
            self._process = None

    def __enter__(self) -> "AppServer":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
        if os.environ.get("CP_KEEP_APP_LOGS"):
            print(f"app server log kept in {self.log}")  # noqa: T201
            return
        shutil.rmtree(self._dir, ignore_errors=True)


@dataclass(frozen=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: Any
    elapsed: float


class Http:
    """JSON over HTTP to 127.0.0.1, one connection per request."""

    def __init__(self, port: int, *, timeout: float = 20) -> None:
        self.port = port
        self.timeout = timeout

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        token: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> Reply:
        sent = {"Accept": "application/json", **(headers or {})}
        payload = None
        if body is not None:
            payload = json.dumps(body).encode()
            sent["Content-Type"] = "application/json"
        if token:
            sent["Authorization"] = f"Bearer {token}"
        conn = http.client.HTTPConnection(LOCAL, self.port, timeout=self.timeout)
        started = time.monotonic()
        try:
            conn.request(method, path, body=payload, headers=sent)
            response = conn.getresponse()
            raw = response.read()
        finally:
            conn.close()
        elapsed = time.monotonic() - started
        text = raw.decode("utf-8", "replace")
        try:
            parsed = json.loads(text) if text else None
        except ValueError:
            parsed = text
        return Reply(
            response.status,
            {k.lower(): v for k, v in response.getheaders()},
            parsed,
            elapsed,
        )

    def get(self, path: str, **kwargs: Any) -> Reply:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> Reply:
        return self.request("POST", path, body, **kwargs)


def is_error_shape(body: Any) -> bool:
    """Tell whether a body has the project's one error shape."""
    if not isinstance(body, dict) or set(body) != {"type", "errors"}:
        return False
    errors = body["errors"]
    return (
        body["type"] in {"validation_error", "client_error", "server_error"}
        and isinstance(errors, list)
        and bool(errors)
        and all(set(e) == {"code", "detail", "attr"} for e in errors)
    )


def wait_until(check: Any, *, timeout: float, interval: float = 0.1) -> Any:
    """Poll ``check`` until it returns something truthy, within ``timeout``."""
    deadline = time.monotonic() + timeout
    while True:
        found = check()
        if found or time.monotonic() > deadline:
            return found
        time.sleep(interval)


# --- seeding ----------------------------------------------------------------


def bulk_users(count: int, *, prefix: str) -> list[User]:
    """Users with unusable passwords, in one statement."""
    users = [
        User(email=f"{prefix}{i}@example.com", display_name=f"{prefix}{i}")
        for i in range(count)
    ]
    for user in users:
        user.set_unusable_password()
    return User.objects.bulk_create(users)


def seed_board(contest: Contest, users: list[User], scores: Iterable[int]) -> None:
    """Give each user one accepted submission, as the submit statement would.

    Scores repeat on purpose (ties); the reached times are distinct, so the
    order under ``ties=earliest`` is fully decided.
    """
    start = timezone.now() - timedelta(minutes=30)
    participations, entries, submissions = [], [], []
    for index, (user, score) in enumerate(zip(users, scores, strict=True)):
        reached = start + timedelta(milliseconds=index * 7 % 9973, microseconds=index)
        participations.append(Participation(contest=contest, user=user))
        entries.append(
            Entry(
                contest=contest,
                user=user,
                score=score,
                reached_at=reached,
                submission_count=1,
                version=1,
                updated_at=reached,
            )
        )
        submissions.append(
            Submission(
                contest=contest,
                user=user,
                kind=Kind.SCORE,
                score=score,
                created_at=reached,
                outcome=Outcome.ADDED
                if contest.scoring == Scoring.SUM
                else Outcome.NEW_BEST,
                entry_version=1,
                entry_score=score,
                entry_reached_at=reached,
                new_best=True,
            )
        )
    Participation.objects.bulk_create(participations, batch_size=5000)
    Entry.objects.bulk_create(entries, batch_size=5000)
    Submission.objects.bulk_create(submissions, batch_size=5000)


# --- what the fault tests count ---------------------------------------------


def ledger_problems(contest: Contest, acknowledged: dict[int, int]) -> list[str]:
    """Acknowledged submissions missing from PostgreSQL, and torn entries.

    ``acknowledged`` maps each submission id a client got a 2xx for to the
    score it sent. An entry is torn when it disagrees with the last
    submission of the log that produced it.
    """
    problems = []
    stored = dict(
        Submission.objects.filter(pk__in=acknowledged).values_list("pk", "score")
    )
    for pk, score in acknowledged.items():
        if pk not in stored:
            problems.append(f"acknowledged submission {pk} is missing")
        elif stored[pk] != score:
            problems.append(f"submission {pk} has {stored[pk]}, client sent {score}")
    with connection.cursor() as cursor:
        cursor.execute(_TORN_ENTRIES_SQL, [contest.pk])
        for user_id, count, logged in cursor.fetchall():
            problems.append(f"entry of {user_id}: {count} counted, {logged} logged")
        cursor.execute(_UNLOGGED_ENTRIES_SQL, [contest.pk])
        for (user_id,) in cursor.fetchall():
            problems.append(f"entry of {user_id} disagrees with its last submission")
    return problems


_TORN_ENTRIES_SQL = """
SELECT e.user_id, e.submission_count, count(s.id)
FROM leaderboards_entry e
LEFT JOIN leaderboards_submission s
  ON s.contest_id = e.contest_id AND s.user_id = e.user_id AND s.kind = 'score'
WHERE e.contest_id = %s
GROUP BY e.user_id, e.submission_count
HAVING e.submission_count <> count(s.id)
"""

_UNLOGGED_ENTRIES_SQL = """
SELECT e.user_id
FROM leaderboards_entry e
WHERE e.contest_id = %s AND NOT EXISTS (
    SELECT 1 FROM leaderboards_submission s
    WHERE s.contest_id = e.contest_id AND s.user_id = e.user_id
      AND s.entry_version = e.version AND s.entry_score = e.score
      AND s.entry_reached_at = e.reached_at)
"""


@dataclass(frozen=True)
class BoardRow:
    user_id: int
    score: int
    reached_at: datetime
    version: int
    hidden: bool


def redis_board(contest: Contest) -> list[BoardRow] | None:
    """The whole live board as Redis holds it, in board order; None if absent."""
    keys = board.Keys.of(contest.pk)
    redis = board.client()
    if not redis.hexists(keys.meta, board.BUILT):
        return None
    meta = {
        int(field): value.decode().split("|")
        for field, value in redis.hgetall(keys.meta).items()
        if field != board.BUILT.encode()
    }
    rows = []
    members: list[tuple[bytes, float]] = redis.zrange(  # type: ignore[assignment]
        keys.all, 0, -1, withscores=True
    )
    for raw_member, raw_score in members:
        user_id, reached_at = board._decode_member(raw_member)
        score = int(raw_score)
        version, _, hidden = meta[user_id]
        rows.append(
            BoardRow(
                user_id=user_id,
                score=-score if contest.order == Order.DESC else score,
                reached_at=reached_at,
                version=int(version),
                hidden=hidden == "1",
            )
        )
    public = [board._decode_member(m)[0] for m in redis.zrange(keys.pub, 0, -1)]
    if public != [row.user_id for row in rows if not row.hidden]:
        raise AssertionError("the public board is not the visible part of all")
    return rows


def postgres_board(contest: Contest) -> list[BoardRow]:
    """The Entry rows in board order (score, then time reached, then id)."""
    order = "-score" if contest.order == Order.DESC else "score"
    entries = Entry.objects.filter(contest=contest).order_by(
        order, "reached_at", "user_id"
    )
    return [
        BoardRow(e.user_id, e.score, e.reached_at, e.version, e.hidden) for e in entries
    ]


def board_problems(contest: Contest) -> list[str]:
    """Board entries with no committed submission behind them, and drift.

    The board must equal the Entry rows exactly: same users, order, scores,
    times, versions and hidden flags.
    """
    found = redis_board(contest)
    if found is None:
        return ["the board is missing"]
    problems = []
    # Hiding bumps an entry's version without a submission, so a row is
    # matched to the log by its score and the time it was reached.
    committed = set(
        Submission.objects.filter(contest=contest).values_list(
            "user_id", "entry_score", "entry_reached_at"
        )
    )
    for row in found:
        if (row.user_id, row.score, row.reached_at) not in committed:
            problems.append(f"board row {row} has no committed submission")
    expected = postgres_board(contest)
    if found != expected:
        extra = set(found) - set(expected)
        lost = set(expected) - set(found)
        problems.append(
            f"board differs from PostgreSQL: {len(extra)} extra, {len(lost)} lost"
            + ("" if extra or lost else " (order differs)")
        )
    return problems


def chunks[T](items: list[T], size: int) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def rebuild_now(contest: Contest) -> None:
    contest.refresh_from_db()
    if not services.board_rebuild(contest=contest):
        raise AssertionError("the board could not be rebuilt")
