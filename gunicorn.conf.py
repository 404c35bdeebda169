"""gunicorn settings for every environment; env vars override each one.

Worker class and counts, chosen by ``make bench`` on the 2-core machine
(docs/performance.md, "Server setups"): gthread, 3 workers x 4 threads.

- Every request waits on PostgreSQL or Redis round trips for part of its
  time; a worker's threads overlap those waits. Python holds one core per
  process at most (the GIL), and a third process keeps both cores busy
  while the other two wait.
- Against 2x4 on the same data and run (board of 10^5, two rounds each,
  with reuse_port below), 3x4 read the top 50 and ``me`` 22 to 25% faster
  and submitted 6% faster, with p99 about 1.5 times as long: more
  requests in flight share the cores. 4x2 came out about the same as
  3x4; sync x5 read as fast but submitted 10% slower with twice the p99,
  and it closes the connection after every response (no keep-alive in
  gunicorn 27), so it belongs behind a buffering proxy.
- With more cores, set GUNICORN_WORKERS to about one per core plus one
  and measure again; each worker holds up to DATABASE_POOL_MAX_SIZE
  PostgreSQL connections.

``reuse_port`` is on: each worker binds a socket of its own (SO_REUSEPORT)
and the kernel spreads new connections over them. With one shared socket,
whichever worker wakes first accepts, and under keep-alive a worker can
end up holding nearly every connection while the other idles: six
4-second wrk runs of the top-50 read (2x4) gave 525 to 1,180 req/s, the
low one with one worker at a full core and the other at none; with
reuse_port, eight runs gave 1,130 to 1,160 with both workers busy. The costs: a worker
that dies drops the connections still waiting in its own queue, and a
second server started by the same user on the same port shares it instead
of failing to bind (GUNICORN_REUSE_PORT=false restores the shared socket).
"""

import os
from typing import Any

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
workers = int(os.environ.get("GUNICORN_WORKERS", "3"))
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
