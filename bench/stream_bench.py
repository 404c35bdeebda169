"""Benchmark the live streams: fan-out latency and the cost to the REST API.

    make bench-stream            (or: python bench/stream_bench.py --help)

Starts gunicorn (the API) and uvicorn (the streams) with production
settings on spare ports of 127.0.0.1, against a database of its own
(``<name>_streambench`` on the configured PostgreSQL server) and Redis
database 14 of the configured server. Then, for the same time each:

A. no subscribers: submissions at a steady rate, and wrk reading the
   leaderboard as fast as it can;
B. the same, with N subscribers connected to the contest's stream;

three times over (``--rounds``), so both phases see the same machine.

It reports the time from a submission's HTTP response to its ``change``
event at each subscriber (p50 / p99 / max over every delivery of every
round), events lost, wrk's read throughput in B as a share of A (medians
of the rounds), and the CPU of the API, the stream server and the
subscribers' own client process. Every run is bounded in time and talks
only to 127.0.0.1.
"""

import argparse
import asyncio
import itertools
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
# Every submission of a run sends a new score, so each is a visible change.
SCORES = itertools.count(1_000_000)
VENV_BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))

from bench.proc import cpu_seconds, tree_cpu_seconds  # noqa: E402


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def bench_env() -> dict[str, str]:
    database = os.environ.get(
        "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/contestplatform"
    )
    parts = urlsplit(database)
    name = parts.path.rsplit("/", 1)[-1] or "contestplatform"
    path = parts.path.rsplit("/", 1)[0] + f"/{name}_streambench"
    redis = urlsplit(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"))
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="contestplatform.settings.production",
        DJANGO_SECRET_KEY="stream-bench-only-" + "k" * 40,
        DJANGO_ALLOWED_HOSTS="127.0.0.1,localhost",
        DJANGO_SECURE_SSL_REDIRECT="false",
        DATABASE_URL=urlunsplit(parts._replace(path=path)),
        REDIS_URL=urlunsplit(redis._replace(path="/14")),
        RATELIMIT_ENABLED="false",
        LOG_LEVEL="WARNING",
        STREAM_HEARTBEAT_SECONDS="15",
    )
    return env


def prepare(env: dict[str, str], users: int) -> tuple[str, list[str]]:
    """Create the database, a running contest and tokens; return them."""
    import psycopg

    database = env["DATABASE_URL"]
    parts = urlsplit(database)
    name = parts.path.rsplit("/", 1)[-1]
    admin_url = urlunsplit(
        parts._replace(path=parts.path.rsplit("/", 1)[0] + "/postgres")
    )
    conninfo = admin_url.replace("postgres://", "postgresql://", 1)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        if not conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [name]
        ).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    os.environ.update(env)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v0"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    import django

    django.setup()
    from datetime import timedelta

    from django.utils import timezone
    from django_redis import get_redis_connection
    from rest_framework_simplejwt.tokens import AccessToken

    from accounts.models import User
    from contests.models import Contest

    get_redis_connection("default").flushdb()
    now = timezone.now()
    contest = Contest.objects.create(
        slug=f"stream-bench-{int(time.time())}",
        title="Stream benchmark",
        starts_at=now - timedelta(hours=1),
        ends_at=now + timedelta(days=1),
        published_at=now - timedelta(hours=2),
        scoring="latest",
        score_min=0,
        score_max=10**12,
    )
    User.objects.bulk_create(
        [
            User(email=f"sb{n}@example.com", display_name=f"sb-{n}")
            for n in range(users)
        ],
        ignore_conflicts=True,
    )
    people = User.objects.filter(email__startswith="sb", email__endswith="@example.com")
    tokens = [str(AccessToken.for_user(user)) for user in people[:users]]
    return contest.slug, tokens


class Servers:
    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.api_port = free_port()
        self.stream_port = free_port()
        self.processes: list[subprocess.Popen[bytes]] = []

    def __enter__(self) -> "Servers":
        env = {**self.env, "GUNICORN_BIND": f"127.0.0.1:{self.api_port}"}
        self.processes.append(
            subprocess.Popen(
                [
                    str(VENV_BIN / "gunicorn"),
                    "-c",
                    "gunicorn.conf.py",
                    "contestplatform.wsgi:application",
                ],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        self.processes.append(
            subprocess.Popen(
                [
                    str(VENV_BIN / "uvicorn"),
                    "contestplatform.asgi:application",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.stream_port),
                    "--no-access-log",
                    "--lifespan",
                    "off",
                    "--log-level",
                    "warning",
                ],
                cwd=ROOT,
                env=self.env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        )
        for port in (self.api_port, self.stream_port):
            _wait_for(port)
        return self

    def cpu_seconds(self) -> dict[str, float]:
        """CPU time so far of the API, the stream server and this process."""
        api, stream = self.processes
        return {
            "api (gunicorn)": tree_cpu_seconds(api.pid),
            "streams (uvicorn)": cpu_seconds(stream.pid),
            "bench clients": cpu_seconds(os.getpid()),
        }

    def __exit__(self, *exc: object) -> None:
        for process in self.processes:
            process.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def _wait_for(port: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise SystemExit(f"nothing answered on 127.0.0.1:{port}")


# --- Load: submissions, subscribers, wrk ----------------------------------


async def _http_post(
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
    path: str,
    token: str,
    body: bytes,
) -> int:
    writer.write(
        (
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer {token}\r\n"
            "Content-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode()
        + body
    )
    await writer.drain()
    status_line = await reader.readline()
    length = 0
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":")[1])
    await reader.readexactly(length)
    return int(status_line.split()[1])


async def submitter(
    port: int,
    slug: str,
    tokens: list[str],
    rate: float,
    seconds: float,
    sent: dict[tuple[int, int], float],
    statuses: list[int],
) -> None:
    """Submit at ``rate`` per second; remember when each answer arrived."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    path = f"/api/v1/contests/{slug}/submissions/"
    start = time.monotonic()
    n = 0
    try:
        while time.monotonic() - start < seconds:
            n += 1
            token = tokens[n % len(tokens)]
            score = next(SCORES)  # unique, so its event can be matched
            status = await _http_post(
                reader, writer, path, token, json.dumps({"score": score}).encode()
            )
            statuses.append(status)
            sent[(n % len(tokens), score)] = time.monotonic()
            await asyncio.sleep(max(0.0, start + n / rate - time.monotonic()))
    finally:
        writer.close()


class Subscriber(asyncio.Protocol):
    """One stream's client: records (score, arrival time) of each change.

    A bare protocol, not a StreamReader loop: a thousand of these share one
    core with the submitter, and the arrival time is taken when the bytes
    come in, before any parsing, so the client's own work is not counted
    as the server's latency. Each SSE event arrives in one chunk of the
    chunked response (the server sends one event per write), so splitting
    on the blank line that ends an event finds every event whole.
    """

    def __init__(self, request: bytes, received: list[tuple[int, float]]) -> None:
        self.request = request
        self.received = received
        self.ready = asyncio.get_running_loop().create_future()
        self.closed = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None
        self.pending = b""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)
        self.transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        arrived = time.monotonic()
        events = (self.pending + data).split(b"\n\n")
        self.pending = events.pop()
        for event in events:
            if b"event: change" in event:
                start = event.index(b'"score":') + 8
                end = event.index(b",", start)
                self.received.append((int(event[start:end]), arrived))
            elif b"event: snapshot" in event and not self.ready.done():
                self.ready.set_result(None)

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.ready.done():
            self.ready.set_exception(ConnectionError("stream closed early"))
        if not self.closed.done():
            self.closed.set_result(None)


async def subscribe(
    port: int, slug: str, received: list[tuple[int, float]]
) -> Subscriber:
    request = (
        f"GET /api/v1/contests/{slug}/leaderboard/stream/?top=1 HTTP/1.1\r\n"
        "Host: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n"
    ).encode()
    loop = asyncio.get_running_loop()
    _transport, protocol = await loop.create_connection(
        lambda: Subscriber(request, received), "127.0.0.1", port
    )
    return protocol


def run_wrk(port: int, slug: str, seconds: int) -> dict[str, float]:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed (Debian package wrk)")
    url = f"http://127.0.0.1:{port}/api/v1/contests/{slug}/leaderboard/?limit=50"
    out = subprocess.run(
        ["wrk", "-t2", "-c50", f"-d{seconds}s", "--latency", url],
        capture_output=True,
        text=True,
        check=True,
        timeout=seconds + 30,
    ).stdout
    rps = float(
        next(
            line.split()[1]
            for line in out.splitlines()
            if line.startswith("Requests/sec")
        )
    )
    non2xx = next(
        (int(line.split()[-1]) for line in out.splitlines() if "Non-2xx" in line), 0
    )
    return {"rps": rps, "non2xx": non2xx}


async def phase(
    servers: Servers,
    slug: str,
    tokens: list[str],
    *,
    subscribers: int,
    rate: float,
    seconds: int,
) -> dict[str, object]:
    inboxes: list[list[tuple[int, float]]] = [[] for _ in range(subscribers)]
    clients = []
    for inbox in inboxes:
        # One at a time: a burst of a thousand SYNs can overflow the
        # listen backlog and stall on retransmits.
        clients.append(await subscribe(servers.stream_port, slug, inbox))
    await asyncio.wait_for(
        asyncio.gather(*(client.ready for client in clients)), timeout=60
    )
    cpu_before, started = servers.cpu_seconds(), time.monotonic()
    sent: dict[tuple[int, int], float] = {}
    statuses: list[int] = []
    wrk = asyncio.get_running_loop().run_in_executor(
        None, run_wrk, servers.api_port, slug, seconds
    )
    await submitter(servers.api_port, slug, tokens, rate, seconds, sent, statuses)
    reads = await wrk
    cpu = {
        name: round((seconds - cpu_before[name]) / (time.monotonic() - started) * 100)
        for name, seconds in servers.cpu_seconds().items()
    }
    await asyncio.sleep(2)  # let the last events arrive
    for client in clients:
        if client.transport is not None:
            client.transport.close()
    await asyncio.gather(*(client.closed for client in clients))
    by_score = {score: at for (_user, score), at in sent.items()}
    latencies = [
        (arrived - by_score[score]) * 1000
        for inbox in inboxes
        for score, arrived in inbox
        if score in by_score
    ]
    expected = len(by_score) * subscribers
    return {
        "subscribers": subscribers,
        "submissions": len(sent),
        "submit_non201": sum(1 for s in statuses if s != 201),
        "deliveries": len(latencies),
        "lost": expected - len(latencies),
        "p50_ms": _pct(latencies, 50),
        "p99_ms": _pct(latencies, 99),
        "max_ms": max(latencies) if latencies else None,
        "latencies_ms": latencies,
        "reads_rps": reads["rps"],
        "reads_non2xx": reads["non2xx"],
        # Percent of one core, over the phase's load (wrk's own not counted).
        "cpu_pct": cpu,
    }


def _pct(values: list[float], pct: int) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]


def _run(coroutine: Any) -> Any:
    import uvloop

    return uvloop.run(coroutine)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=5.0, help="submissions per s")
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument(
        "--rounds", type=int, default=3, help="A then B, this many times"
    )
    args = parser.parse_args()

    env = bench_env()
    slug, tokens = prepare(env, users=200)
    rounds: list[dict[str, Any]] = []
    with Servers(env) as servers:
        for _ in range(args.rounds):
            pair = {}
            for name, subscribers in (("A", 0), ("B", args.subscribers)):
                pair[name] = _run(
                    phase(
                        servers,
                        slug,
                        tokens,
                        subscribers=subscribers,
                        rate=args.rate,
                        seconds=args.seconds,
                    )
                )
            rounds.append(pair)
    latencies = [ms for pair in rounds for ms in pair["B"].pop("latencies_ms")]
    for pair in rounds:
        pair["A"].pop("latencies_ms")
    alone = statistics.median(pair["A"]["reads_rps"] for pair in rounds)
    loaded = statistics.median(pair["B"]["reads_rps"] for pair in rounds)
    share = loaded / alone
    lost = sum(pair["B"]["lost"] for pair in rounds)
    p50, p99 = _pct(latencies, 50) or 0.0, _pct(latencies, 99) or 0.0
    print(json.dumps({"rounds": rounds, "reads_share": round(share, 3)}, indent=2))
    print(
        f"\n{args.subscribers} subscribers, {args.rate:g} submissions/s, "
        f"{args.rounds} rounds of {args.seconds} s: event latency over "
        f"{len(latencies)} deliveries p50 {p50:.1f} ms, p99 {p99:.1f} ms, "
        f"max {max(latencies, default=0.0):.1f} ms; {lost} deliveries lost; "
        f"leaderboard reads (medians) {loaded:.0f}/s vs {alone:.0f}/s alone "
        f"({share:.0%})."
    )


if __name__ == "__main__":
    main()
