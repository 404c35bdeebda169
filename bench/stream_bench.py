"""Benchmark the live streams: fan-out latency and the cost to the REST API.

    make bench-stream            (or: python bench/stream_bench.py --help)

Starts gunicorn (the API) and uvicorn (the streams) with production
settings on spare ports of 127.0.0.1, against a database of its own
(``<name>_streambench`` on the configured PostgreSQL server) and Redis
database 14 of the configured server. Then, twice for the same time:

A. no subscribers: submissions at a steady rate, and wrk reading the
   leaderboard as fast as it can;
B. the same, with N subscribers connected to the contest's stream.

It reports the time from a submission's HTTP response to its ``change``
event at each subscriber (p50 / p99 / max over every delivery), events
lost, and wrk's read throughput in B as a share of A. Every run is bounded
in time and talks only to 127.0.0.1.
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
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
# Every submission of a run sends a new score, so each is a visible change.
SCORES = itertools.count(1_000_000)
VENV_BIN = Path(sys.executable).parent
sys.path.insert(0, str(ROOT))


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


async def subscriber(
    port: int,
    slug: str,
    received: list[tuple[int, float]],
    ready: asyncio.Event,
    stop: asyncio.Event,
) -> None:
    """Read one stream; record (score, arrival time) of each change."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(
        f"GET /api/v1/contests/{slug}/leaderboard/stream/?top=1 HTTP/1.1\r\n"
        "Host: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n".encode()
    )
    await writer.drain()
    event = b""
    try:
        while not stop.is_set():
            try:
                line = await asyncio.wait_for(reader.readline(), timeout=1.0)
            except TimeoutError:
                continue
            if not line:
                return
            if line.startswith(b"event: "):
                event = line[7:].strip()
                if event == b"snapshot":
                    ready.set()
            elif line.startswith(b"data: ") and event == b"change":
                # Take the time first, then find the score without a JSON
                # parse: the client's own work should not count as latency.
                arrived = time.monotonic()
                start = line.index(b'"score":') + 8
                end = line.index(b",", start)
                received.append((int(line[start:end]), arrived))
    finally:
        writer.close()


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
    stop = asyncio.Event()
    readies = [asyncio.Event() for _ in range(subscribers)]
    inboxes: list[list[tuple[int, float]]] = [[] for _ in range(subscribers)]
    tasks = [
        asyncio.create_task(
            subscriber(servers.stream_port, slug, inboxes[i], readies[i], stop)
        )
        for i in range(subscribers)
    ]
    await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), timeout=60)
    sent: dict[tuple[int, int], float] = {}
    statuses: list[int] = []
    wrk = asyncio.get_running_loop().run_in_executor(
        None, run_wrk, servers.api_port, slug, seconds
    )
    await submitter(servers.api_port, slug, tokens, rate, seconds, sent, statuses)
    reads = await wrk
    await asyncio.sleep(2)  # let the last events arrive
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
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
        "reads_rps": reads["rps"],
        "reads_non2xx": reads["non2xx"],
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
    args = parser.parse_args()

    env = bench_env()
    slug, tokens = prepare(env, users=200)
    with Servers(env) as servers:
        baseline = _run(
            phase(
                servers,
                slug,
                tokens,
                subscribers=0,
                rate=args.rate,
                seconds=args.seconds,
            )
        )
        loaded = _run(
            phase(
                servers,
                slug,
                tokens,
                subscribers=args.subscribers,
                rate=args.rate,
                seconds=args.seconds,
            )
        )
    share = loaded["reads_rps"] / baseline["reads_rps"]
    print(
        json.dumps(
            {
                "baseline": baseline,
                "with_subscribers": loaded,
                "reads_share": round(share, 3),
            },
            indent=2,
        )
    )
    print(
        f"\n{args.subscribers} subscribers, {args.rate:g} submissions/s for "
        f"{args.seconds} s: event latency p50 {loaded['p50_ms']:.1f} ms, "
        f"p99 {loaded['p99_ms']:.1f} ms, max {loaded['max_ms']:.1f} ms; "
        f"{loaded['lost']} deliveries lost; leaderboard reads "
        f"{loaded['reads_rps']:.0f}/s vs {baseline['reads_rps']:.0f}/s alone "
        f"({share:.0%})."
    )


if __name__ == "__main__":
    main()
