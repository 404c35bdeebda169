"""Run the benchmark suite and print one table (``make bench``).

Seeds a database of its own, serves the app with gunicorn and production
settings (``bench.settings``: production plus the floor URL), loads it
with wrk from this machine, and reports each scenario in absolute figures
and as a ratio to the floor measured in the same run. Every run is
bounded in time and targets 127.0.0.1 only. docs/performance.md explains
the scenarios and the figures.

Services: PostgreSQL is the server ``DATABASE_URL`` names (``make bench``
starts the embedded one when it is unset); the suite drops and creates
the database ``BENCH_DATABASE`` (contestplatform_bench) on it. Redis is a
redis-server of the suite's own on a spare port, so no one else's test
can flush it and it can be flushed freely.

Knobs (environment): BENCH_DURATION (s, 10), BENCH_REPEAT (3),
BENCH_THREADS (2), BENCH_CONNECTIONS (50), BENCH_SCALES
(1000,100000,1000000), BENCH_REUSE=1 (keep a seeded database),
BENCH_SERVERS=1 (also compare server setups; or some, by name),
BENCH_PROFILE=1 (py-spy flame graphs of each scenario into bench/results/),
BENCH_DATABASE.
"""

import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.proc import tree_cpu_seconds  # noqa: E402
from contestplatform.testing import RedisProcess, free_port  # noqa: E402

LUA = ROOT / "bench" / "lua"
RESULTS = ROOT / "bench" / "results"
PYTHON = sys.executable
GUNICORN = str(Path(PYTHON).with_name("gunicorn"))
APP = "contestplatform.wsgi:application"
SECRET = "bench-only-secret-" + "b" * 40
MAIN_SCALE = 100_000
TOKENS = 10_000
# What every server of the suite runs with, on top of the services.
BASE_ENV = {
    "DJANGO_SETTINGS_MODULE": "bench.settings",
    "DJANGO_SECRET_KEY": SECRET,
    "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
    "DJANGO_SECURE_SSL_REDIRECT": "false",
    # Tokens are minted once, before a run that can last a while.
    "JWT_ACCESS_TOKEN_LIFETIME": "14400",
    "LOG_LEVEL": "INFO",
}
# Throughput scenarios: limits far above anything the run can reach, so
# the throttles still cost their Redis round trip as in production.
HIGH_LIMITS = {
    f"RATELIMIT_RATE_{scope}": "100000000/1s"
    for scope in ("SUBMISSION", "READ", "USER_WRITE", "ADMIN_WRITE")
}


def _env_int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


@dataclass(frozen=True)
class Options:
    duration: int = _env_int("BENCH_DURATION", 10)
    repeat: int = _env_int("BENCH_REPEAT", 3)
    threads: int = _env_int("BENCH_THREADS", 2)
    connections: int = _env_int("BENCH_CONNECTIONS", 50)
    scales: tuple[int, ...] = tuple(
        int(n) for n in os.environ.get("BENCH_SCALES", "1000,100000,1000000").split(",")
    )
    reuse: bool = os.environ.get("BENCH_REUSE", "") == "1"
    # "1": every setup of SERVER_MATRIX (and granian if installed); or
    # names from it, comma-separated ("sync x3,granian 2x4").
    servers: str = os.environ.get("BENCH_SERVERS", "")
    profile: bool = os.environ.get("BENCH_PROFILE", "") == "1"
    database: str = os.environ.get("BENCH_DATABASE", "contestplatform_bench")


@dataclass
class Result:
    scenario: str
    server: str
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    statuses: dict[str, int]
    errors: dict[str, int]
    cpu_pct: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def non_2xx(self) -> dict[str, int]:
        return {s: n for s, n in sorted(self.statuses.items()) if not s.startswith("2")}


@dataclass
class Report:
    options: Options
    started: str = field(default_factory=lambda: datetime.now(UTC).isoformat())
    timings: dict[str, float] = field(default_factory=dict)
    results: list[Result] = field(default_factory=list)


def say(message: str) -> None:
    print(f"bench: {message}", file=sys.stderr, flush=True)


def slug_of(scale: int) -> str:
    return f"bench-{scale}"


def main_scale(options: "Options") -> int:
    """The board of scenarios 1 to 5: 10^5, unless BENCH_SCALES leaves it out."""
    return MAIN_SCALE if MAIN_SCALE in options.scales else options.scales[0]


# --- services ---------------------------------------------------------------


def _database_url(name: str) -> str:
    """DATABASE_URL with its database replaced by ``name``."""
    url = os.environ.get("DATABASE_URL")
    if not url:
        raise SystemExit(
            "bench: DATABASE_URL is unset; run `make bench`, which starts the "
            "embedded PostgreSQL, or set it to a server of yours"
        )
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


def _recreate_database(url: str, name: str) -> None:
    import environ
    import psycopg

    config = environ.Env.db_url_config(url)
    params = {
        "host": config.get("HOST"),
        "port": config.get("PORT"),
        "user": config.get("USER"),
        "password": config.get("PASSWORD"),
    }
    conninfo = psycopg.conninfo.make_conninfo(
        dbname="postgres", **{k: str(v) for k, v in params.items() if v}
    )
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def manage(env: dict[str, str], *args: str, timeout: float = 900) -> float:
    """Run a manage.py command; return its wall time in seconds."""
    started = time.monotonic()
    subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=timeout,
        stdout=subprocess.DEVNULL,
    )
    return time.monotonic() - started


def _seeded(env: dict[str, str], scales: Sequence[int]) -> bool:
    """Tell whether every bench contest exists and still runs."""
    code = (
        "import django; django.setup()\n"
        "from contests.models import Contest\n"
        f"slugs = {[slug_of(s) for s in scales]!r}\n"
        "found = [c for c in Contest.objects.filter(slug__in=slugs)]\n"
        "ok = len(found) == len(slugs) and all(c.state == 'running' for c in found)\n"
        "raise SystemExit(0 if ok else 1)\n"
    )
    return subprocess.run([PYTHON, "-c", code], cwd=ROOT, env=env).returncode == 0


def prepare_data(env: dict[str, str], options: Options, report: Report) -> None:
    if options.reuse and _seeded(env, options.scales):
        say("reusing the seeded database (BENCH_REUSE=1)")
    else:
        say(f"creating database {options.database}")
        _recreate_database(env["DATABASE_URL"], options.database)
        manage(env, "migrate", "--no-input")
        manage(env, "seed_demo")
        # The largest first: it creates the users the smaller ones share.
        for scale in sorted(options.scales, reverse=True):
            say(f"seeding {slug_of(scale)}: {scale} participants")
            seconds = manage(
                env, "seed_demo", "--users", str(scale), "--slug", slug_of(scale)
            )
            report.timings[f"seed {scale}"] = seconds
    for scale in sorted(options.scales, reverse=True):
        say(f"rebuilding the board of {slug_of(scale)} from PostgreSQL")
        seconds = manage(env, "rebuild_leaderboards", slug_of(scale))
        report.timings[f"rebuild {scale}"] = seconds


def make_tokens(env: dict[str, str], options: Options) -> dict[str, Path]:
    RESULTS.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}
    for scale in options.scales:
        path = RESULTS / f"tokens-{scale}.txt"
        _tokens(env, slug_of(scale), min(TOKENS, scale), path)
        files[str(scale)] = path
    # Scenario 5: one abuser, and normal users that never include it.
    main = slug_of(main_scale(options))
    files["abuser"] = RESULTS / "tokens-abuser.txt"
    _tokens(env, main, 1, files["abuser"])
    files["normal"] = RESULTS / "tokens-normal.txt"
    _tokens(env, main, TOKENS, files["normal"], skip=1)
    return files


def _tokens(
    env: dict[str, str], slug: str, count: int, path: Path, skip: int = 0
) -> None:
    subprocess.run(
        [PYTHON, "bench/tokens.py", slug, str(count), str(path), "--skip", str(skip)],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=300,
    )


# --- the server -------------------------------------------------------------


@dataclass(frozen=True)
class ServerSetup:
    name: str
    worker_class: str = ""  # empty: gunicorn.conf.py decides
    workers: int = 0
    threads: int = 0
    extra: dict[str, str] = field(default_factory=dict)
    granian: bool = False  # the documented alternative, not the default

    def command(self, port: int) -> list[str]:
        if not self.granian:
            return [GUNICORN, "-c", "gunicorn.conf.py", APP]
        return [
            str(Path(PYTHON).with_name("granian")),
            "--interface",
            "wsgi",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--workers",
            str(self.workers or 2),
            "--blocking-threads",
            str(self.threads or 4),
            "--no-access-log",
            APP,
        ]

    def env(self) -> dict[str, str]:
        values = dict(self.extra)
        if self.worker_class:
            values["GUNICORN_WORKER_CLASS"] = self.worker_class
        if self.workers:
            values["GUNICORN_WORKERS"] = str(self.workers)
        if self.threads:
            values["GUNICORN_THREADS"] = str(self.threads)
        return values


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def cpu_seconds(self) -> float:
        """CPU time used so far by gunicorn's master and its workers."""
        return tree_cpu_seconds(self.process.pid)


@contextmanager
def serve(env: dict[str, str], setup: ServerSetup) -> Iterator[Server]:
    port = free_port()
    server_env = {**env, **setup.env(), "GUNICORN_BIND": f"127.0.0.1:{port}"}
    log = (RESULTS / f"server-{setup.name}.log").open("wb")
    process = subprocess.Popen(
        setup.command(port),
        cwd=ROOT,
        env=server_env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    server = Server(process, port)
    try:
        _wait_ready(server)
        yield server
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _wait_ready(server: Server) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise SystemExit("bench: the server exited; see bench/results/")
        try:
            with urllib.request.urlopen(f"{server.url}/bench/floor/", timeout=2):
                return
        except (urllib.error.URLError, OSError):
            time.sleep(0.3)
    raise SystemExit("bench: the server did not answer within 60 s")


# --- load -------------------------------------------------------------------


@dataclass(frozen=True)
class Scenario:
    name: str
    script: str
    args: tuple[str, ...] = ()
    connections: int = 0  # 0: the suite's default


def wrk(
    server: Server,
    scenario: Scenario,
    options: Options,
    *,
    seconds: int | None = None,
    threads: int | None = None,
) -> subprocess.Popen[str]:
    """Start wrk on one scenario; bounded by -d and by the caller's timeout."""
    command = [
        "wrk",
        f"-t{threads or options.threads}",
        f"-c{scenario.connections or options.connections}",
        f"-d{seconds or options.duration}s",
        "--timeout",
        "5s",
        "-s",
        f"{scenario.script}.lua",
        server.url,
        "--",
        *scenario.args,
    ]
    return subprocess.Popen(
        command,
        cwd=LUA,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(process: subprocess.Popen[str], timeout: float) -> dict[str, Any]:
    try:
        out, err = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        out, err = process.communicate()
    for line in out.splitlines():
        if line.startswith("BENCH "):
            return dict(json.loads(line[len("BENCH ") :]))
    raise SystemExit(f"bench: wrk printed no result:\n{out}\n{err}")


def measure(
    server: Server, setup: ServerSetup, options: Options, *scenarios: Scenario
) -> list[Result]:
    """Run scenarios at once (scenario 5 runs two); one Result each."""
    cpu_before, started = server.cpu_seconds(), time.monotonic()
    threads = 1 if len(scenarios) > 1 else None
    running = [wrk(server, s, options, threads=threads) for s in scenarios]
    raw = [_finish(p, options.duration + 60) for p in running]
    cpu = (server.cpu_seconds() - cpu_before) / (time.monotonic() - started) * 100
    return [_result(s, setup, r, cpu) for s, r in zip(scenarios, raw, strict=True)]


def _result(
    scenario: Scenario, setup: ServerSetup, raw: dict[str, Any], cpu: float
) -> Result:
    return Result(
        scenario=scenario.name,
        server=setup.name,
        requests=int(raw["requests"]),
        seconds=raw["duration_us"] / 1e6,
        p50_ms=raw["p50_us"] / 1000,
        p99_ms=raw["p99_us"] / 1000,
        max_ms=raw["max_us"] / 1000,
        statuses={str(k): int(v) for k, v in raw["statuses"].items()},
        errors={k: int(v) for k, v in raw["errors"].items() if v},
        cpu_pct=cpu,
    )


def warm_up(server: Server, options: Options, scenarios: Sequence[Scenario]) -> None:
    """Open every worker's connections and load every code path, unrecorded."""
    for scenario in scenarios:
        _finish(wrk(server, scenario, options, seconds=2), 60)


FLOOR = Scenario("floor", "floor")


def throughput_scenarios(tokens: dict[str, Path], options: Options) -> list[Scenario]:
    found: list[Scenario] = [FLOOR]
    for scale in options.scales:
        slug, path = slug_of(scale), str(tokens[str(scale)])
        found += [
            Scenario(f"1 top 50 @{scale}", "top", (slug, "50")),
            Scenario(f"2 me ±5 @{scale}", "me", (slug, path, "5")),
            Scenario(f"3 submit @{scale}", "submit", (slug, path)),
        ]
        if scale == main_scale(options):
            found.append(Scenario(f"4 mixed 90/10 @{scale}", "mixed", (slug, path)))
    return found


def run_profile(
    env: dict[str, str],
    setup: ServerSetup,
    options: Options,
    scenarios: Sequence[Scenario],
    report: Report,
) -> None:
    say(f"server {setup.name}: {len(scenarios)} scenarios x {options.repeat}")
    with serve(env, setup) as server:
        warm_up(server, options, scenarios)
        for round_ in range(options.repeat):
            for scenario in scenarios:
                say(f"  round {round_ + 1}: {scenario.name}")
                report.results += measure(server, setup, options, scenario)
        if options.profile:
            for scenario in scenarios:
                profile(server, setup, options, scenario)
    # Kept after every server, so a run cut short still leaves its figures.
    save(report, summarize(report))


def profile(
    server: Server, setup: ServerSetup, options: Options, scenario: Scenario
) -> None:
    """Record a flame graph of every worker while wrk runs the scenario."""
    name = f"{setup.name} {scenario.name}".replace(" ", "_").replace("/", "-")
    out = RESULTS / f"profile-{name}.svg"
    spy = subprocess.Popen(
        [
            str(Path(PYTHON).with_name("py-spy")),
            "record",
            "--pid",
            str(server.process.pid),
            "--subprocesses",
            "--duration",
            str(options.duration),
            "--output",
            str(out),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _finish(wrk(server, scenario, options), options.duration + 60)
    spy.wait(timeout=options.duration + 60)
    say(f"  profile of {scenario.name}: {out.relative_to(ROOT)}")


def run_paired(
    env_a: dict[str, str],
    setup_a: ServerSetup,
    env_b: dict[str, str],
    setup_b: ServerSetup,
    options: Options,
    scenarios: Sequence[Scenario],
    report: Report,
) -> None:
    """Run two servers side by side, each scenario on one then the other.

    A comparison of two setups measured minutes apart on a shared machine
    measures the machine; back to back, both get the same conditions.
    """
    say(f"servers {setup_a.name} / {setup_b.name}, paired: {len(scenarios)} x 2")
    with serve(env_a, setup_a) as a, serve(env_b, setup_b) as b:
        warm_up(a, options, scenarios)
        warm_up(b, options, scenarios)
        for round_ in range(options.repeat):
            for scenario in scenarios:
                say(f"  round {round_ + 1}: {scenario.name}")
                report.results += measure(a, setup_a, options, scenario)
                report.results += measure(b, setup_b, options, scenario)
    save(report, summarize(report))


def run_abuse(
    env: dict[str, str], tokens: dict[str, Path], options: Options, report: Report
) -> None:
    """Scenario 5: one user far over its limit beside normal users."""
    slug = slug_of(main_scale(options))
    # The real limits: no RATELIMIT_* override at all.
    setup = ServerSetup("gunicorn default, real limits")
    abuser_connections = max(1, options.connections // 5)
    normal = Scenario(
        "5 abuse: normal users",
        "submit",
        (slug, str(tokens["normal"])),
        connections=options.connections - abuser_connections,
    )
    abuser = Scenario(
        "5 abuse: the abuser",
        "submit",
        (slug, str(tokens["abuser"])),
        connections=abuser_connections,
    )
    say(f"server {setup.name}: scenario 5 x {options.repeat}")
    with serve(env, setup) as server:
        warm_up(server, options, [FLOOR])
        for _ in range(options.repeat):
            report.results += measure(server, setup, options, FLOOR)
            report.results += measure(server, setup, options, normal, abuser)
    save(report, summarize(report))


# --- report -----------------------------------------------------------------


def _median(results: Sequence[Result], attr: str) -> float:
    return float(statistics.median(getattr(r, attr) for r in results))


def summarize(report: Report) -> list[dict[str, Any]]:
    """One row per server and scenario: medians over the rounds."""
    groups: dict[tuple[str, str], list[Result]] = {}
    for result in report.results:
        groups.setdefault((result.server, result.scenario), []).append(result)
    floors = {
        server: _median(results, "rps")
        for (server, scenario), results in groups.items()
        if scenario == "floor"
    }
    rows = []
    for (server, scenario), results in groups.items():
        statuses: dict[str, int] = {}
        errors: dict[str, int] = {}
        for r in results:
            for code, n in r.non_2xx.items():
                statuses[code] = statuses.get(code, 0) + n
            for kind, n in r.errors.items():
                errors[kind] = errors.get(kind, 0) + n
        rps = _median(results, "rps")
        floor = floors.get(server)
        rows.append(
            {
                "server": server,
                "scenario": scenario,
                "rounds": len(results),
                "rps": rps,
                "p50_ms": _median(results, "p50_ms"),
                "p99_ms": _median(results, "p99_ms"),
                "max_ms": max(r.max_ms for r in results),
                "non_2xx": statuses,
                "errors": errors,
                "cpu_pct": _median(results, "cpu_pct"),
                "floor_ratio": rps / floor if floor else None,
            }
        )
    return rows


def markdown(rows: Sequence[dict[str, Any]], timings: dict[str, float]) -> str:
    lines = [
        (
            "| server | scenario | req/s | p50 ms | p99 ms | max ms | non-2xx "
            "| server CPU % | / floor |"
        ),
        "|---|---|--:|--:|--:|--:|---|--:|--:|",
    ]
    for row in rows:
        bad = {**row["non_2xx"], **row["errors"]}
        non_2xx = ", ".join(f"{k}: {v}" for k, v in bad.items()) or "0"
        ratio = "" if row["floor_ratio"] is None else f"{row['floor_ratio']:.2f}"
        lines.append(
            f"| {row['server']} | {row['scenario']} | {row['rps']:.0f} "
            f"| {row['p50_ms']:.1f} | {row['p99_ms']:.1f} | {row['max_ms']:.0f} "
            f"| {non_2xx} | {row['cpu_pct']:.0f} | {ratio} |"
        )
    if timings:
        lines += ["", "| step | seconds |", "|---|--:|"]
        lines += [f"| {step} | {seconds:.1f} |" for step, seconds in timings.items()]
    return "\n".join(lines)


def save(report: Report, rows: Sequence[dict[str, Any]]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = report.started[:19].replace(":", "")
    path = RESULTS / f"bench-{stamp}.json"
    data = {
        "started": report.started,
        "options": report.options.__dict__,
        "machine": _machine(),
        "timings": report.timings,
        "rows": rows,
        "results": [r.__dict__ for r in report.results],
    }
    path.write_text(json.dumps(data, indent=1, default=str))
    return path


def _machine() -> dict[str, Any]:
    cpu = ""
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    return {"cpu": cpu, "cores": os.cpu_count(), "load": os.getloadavg()}


# --- main -------------------------------------------------------------------

# Gunicorn setups compared with BENCH_SERVERS=1 (docs/performance.md).
SERVER_MATRIX = [
    ServerSetup("gthread 2x4", "gthread", 2, 4),
    ServerSetup("gthread 2x8", "gthread", 2, 8),
    ServerSetup("gthread 3x4", "gthread", 3, 4),
    ServerSetup("gthread 4x2", "gthread", 4, 2),
    ServerSetup("sync x3", "sync", 3, 1),
    ServerSetup("sync x5", "sync", 5, 1),
]
# The alternative server, measured when installed (pip install granian).
GRANIAN = ServerSetup("granian 2x4", workers=2, threads=4, granian=True)


def _chosen_servers(choice: str) -> list[ServerSetup]:
    known = [*SERVER_MATRIX]
    if Path(GRANIAN.command(0)[0]).exists():
        known.append(GRANIAN)
    if choice in ("", "0"):
        return []
    if choice == "1":
        return known
    names = [name.strip() for name in choice.split(",")]
    missing = set(names) - {setup.name for setup in known}
    if missing:
        raise SystemExit(f"bench: unknown or uninstalled servers: {sorted(missing)}")
    return [setup for setup in known if setup.name in names]


def main() -> int:
    if shutil.which("wrk") is None:
        raise SystemExit(
            "bench: wrk is not installed (Debian package wrk; `make bench` "
            "installs it with apt-get when it can)"
        )
    options = Options()
    report = Report(options)
    with RedisProcess() as redis:
        env = {
            **os.environ,
            **BASE_ENV,
            "DATABASE_URL": _database_url(options.database),
            "REDIS_URL": redis.url,
        }
        prepare_data(env, options, report)
        tokens = make_tokens(env, options)
        fast = {**env, **HIGH_LIMITS}
        scenarios = throughput_scenarios(tokens, options)
        run_profile(fast, ServerSetup("gunicorn default"), options, scenarios, report)
        main_scenarios = [
            s for s in scenarios if s.name.endswith(f"@{main_scale(options)}")
        ]
        uncached = {**fast, "USER_STATE_CACHE": "false", "CONTEST_CACHE": "false"}
        run_paired(
            fast,
            ServerSetup("paired: caches on"),
            uncached,
            ServerSetup("paired: caches off"),
            options,
            [FLOOR, *main_scenarios[:3]],
            report,
        )
        run_abuse(env, tokens, options, report)
        for setup in _chosen_servers(options.servers):
            run_profile(fast, setup, options, [FLOOR, *main_scenarios], report)
    rows = summarize(report)
    table = markdown(rows, report.timings)
    path = save(report, rows)
    (RESULTS / "latest.md").write_text(table + "\n")
    print(table)
    say(f"results in {path.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
