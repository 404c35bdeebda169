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
"""

import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "4"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "20"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
# Each worker's database pool and Redis pool are opened after the fork.
preload_app = False
# gunicorn 27 opens a control socket under ~/.gunicorn by default; nothing
# here uses it, and a container's home may be read-only.
control_socket_disable = True
# The app writes its own request line in the configured format.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
