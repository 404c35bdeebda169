"""CPU time per request of the benchmark scenarios, without an HTTP server.

    make bench-inprocess                 (after a `make bench`)
    python bench/inprocess.py [--requests N] [--users N] [--profile top]

Calls the WSGI application in a loop in this process, with the settings
``make bench`` serves (production plus the floor URL, every limit far out
of reach), against the database it seeded (``contestplatform_bench`` on
the server ``DATABASE_URL`` names) and a redis-server of its own, into
which it first rebuilds the board of 10^5. Each scenario reports the CPU
time (and wall time) per request, after a warm-up, and its ratio to the
floor. CPU time counts only this process, so the figures are steadier than
a load test's on a shared machine; they leave out gunicorn's own work and
the request log (WARNING level here, INFO under ``make bench``).

``--users`` is how many distinct users the authenticated scenarios cycle
through: with fewer users than requests every cache is warm, with more
each request is some user's first in this process. ``--profile N`` prints
the N functions with the most cumulative CPU time of each scenario.
"""

import argparse
import cProfile
import io
import json
import os
import pstats
import subprocess
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.run import BASE_ENV, HIGH_LIMITS, _database_url, slug_of  # noqa: E402
from contestplatform.testing import RedisProcess  # noqa: E402

SCALE = 100_000
WARM_UP = 200

Environ = dict[str, Any]


def _environ(
    method: str, path: str, query: str = "", body: bytes = b"", token: str = ""
) -> Environ:
    environ: Environ = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1:8000",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "CONTENT_LENGTH": str(len(body)),
    }
    if body:
        environ["CONTENT_TYPE"] = "application/json"
    if token:
        environ["HTTP_AUTHORIZATION"] = f"Bearer {token}"
    return environ


def _call(app: Callable[..., Iterable[bytes]], environ: Environ) -> str:
    statuses: list[str] = []
    result = app(environ, lambda status, headers, *rest: statuses.append(status))
    b"".join(result)
    close = getattr(result, "close", None)
    if close is not None:
        close()
    return statuses[0]


def _scenarios(tokens: list[str]) -> dict[str, Callable[[int], Environ]]:
    slug = slug_of(SCALE)
    board = f"/api/v1/contests/{slug}/leaderboard/"
    submissions = f"/api/v1/contests/{slug}/submissions/"

    def token(n: int) -> str:
        return tokens[n % len(tokens)]

    return {
        "floor": lambda n: _environ("GET", "/bench/floor/"),
        "1 top 50": lambda n: _environ("GET", board, "limit=50"),
        "2 me ±5": lambda n: _environ(
            "GET", board + "me/", "neighbours=5", token=token(n)
        ),
        "3 submit": lambda n: _environ(
            "POST",
            submissions,
            body=json.dumps({"score": n % 1_000_000}).encode(),
            token=token(n),
        ),
    }


def _measure(
    app: Callable[..., Iterable[bytes]],
    build: Callable[[int], Environ],
    requests: int,
    profile: int,
) -> tuple[float, float]:
    for n in range(WARM_UP):
        status = _call(app, build(n))
        if not status.startswith("2"):
            raise SystemExit(f"bench: the warm-up got {status}")
    profiler = cProfile.Profile(time.process_time) if profile else None
    cpu, wall = time.process_time(), time.perf_counter()
    if profiler is not None:
        profiler.enable()
    for n in range(WARM_UP, WARM_UP + requests):
        _call(app, build(n))
    if profiler is not None:
        profiler.disable()
    cpu_ms = (time.process_time() - cpu) / requests * 1000
    wall_ms = (time.perf_counter() - wall) / requests * 1000
    if profiler is not None:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(profile)
    return cpu_ms, wall_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--users", type=int, default=10_000)
    parser.add_argument("--profile", type=int, default=0, metavar="N")
    args = parser.parse_args()

    with RedisProcess() as redis:
        env = {
            **BASE_ENV,
            **HIGH_LIMITS,
            "DATABASE_URL": _database_url("contestplatform_bench"),
            "REDIS_URL": redis.url,
            "LOG_LEVEL": "WARNING",
        }
        subprocess.run(
            [sys.executable, "manage.py", "rebuild_leaderboards", slug_of(SCALE)],
            cwd=ROOT,
            env={**os.environ, **env},
            check=True,
            stdout=subprocess.DEVNULL,
        )
        os.environ.update(env)
        tokens = _tokens(args.users)
        from django.core.wsgi import get_wsgi_application

        app = get_wsgi_application()
        rows = []
        for name, build in _scenarios(tokens).items():
            cpu_ms, wall_ms = _measure(app, build, args.requests, args.profile)
            rows.append((name, cpu_ms, wall_ms))
    floor = rows[0][1]
    print(f"\n{args.requests} requests each, {len(tokens)} users:\n")
    print("| request | CPU ms | wall ms | / floor |")
    print("|---|--:|--:|--:|")
    for name, cpu_ms, wall_ms in rows:
        print(f"| {name} | {cpu_ms:.2f} | {wall_ms:.2f} | {cpu_ms / floor:.1f} |")


def _tokens(count: int) -> list[str]:
    """Tokens of participants of the board, minted as ``make bench`` does."""
    out = ROOT / "bench" / "results" / f"tokens-inprocess-{count}.txt"
    out.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [sys.executable, "bench/tokens.py", slug_of(SCALE), str(count), str(out)],
        cwd=ROOT,
        check=True,
        timeout=300,
    )
    return out.read_text().split()


if __name__ == "__main__":
    main()
