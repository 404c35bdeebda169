"""gunicorn settings for every environment; env vars override each one.

Worker class and counts, chosen by ``make bench`` on the 2-core machine
(docs/performance.md, "Server setups"): gthread, 2 workers x 4 threads.

- Every request waits on PostgreSQL or Redis round trips for much of its
  time; a worker's threads overlap those waits, while one process per
  core keeps both cores busy with Python.
- Of the setups measured (gthread 2x4, 2x8, 3x4, 4x2; sync x3, x5), none
  beat 2x4 on leaderboard reads beyond the run's noise. More threads per
  worker only queue on the GIL; more processes than cores compete with
  PostgreSQL, Redis and each other.
- sync x5 had about half the p99 on reads, but 15 to 40% fewer floor
  requests per second: the sync worker closes the connection after every
  response (no keep-alive in gunicorn 27), so it belongs behind a
  buffering proxy, where GUNICORN_WORKER_CLASS=sync GUNICORN_WORKERS=5 is
  a measured choice.
With more cores, raise GUNICORN_WORKERS to about one per core and measure
again.

``reuse_port`` is on: each worker binds a socket of its own (SO_REUSEPORT)
and the kernel spreads new connections over them. With one shared socket,
whichever worker wakes first accepts, and under keep-alive a worker can
end up holding nearly every connection while the other idles: eight
4-second wrk runs of the top-50 read gave 525 to 1,180 req/s, the low
ones with one worker at one core and the other at none; with reuse_port,
eight runs gave 1,130 to 1,160 with both workers busy. The costs: a worker
that dies drops the connections still waiting in its own queue, and a
second server started by the same user on the same port shares it instead
of failing to bind (GUNICORN_REUSE_PORT=false restores the shared socket).
"""

import os
from typing import Any

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "20"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
reuse_port = os.environ.get("GUNICORN_REUSE_PORT", "true").lower() in ("1", "true")
# Each worker's database pool and Redis pool are opened after the fork.
preload_app = False
# gunicorn 27 opens a control socket under ~/.gunicorn by default; nothing
# here uses it, and a container's home may be read-only.
control_socket_disable = True
# The app writes its own request line in the configured format.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")


def when_ready(server: Any) -> None:
    # With reuse_port the master holds no socket, and gunicorn's own
    # "Listening at" line shows no address; say where the workers listen.
    if server.cfg.reuse_port:
        server.log.info("Workers listening at: http://%s", server.cfg.bind[0])
