"""gunicorn settings for every environment; env vars override each one.

Worker class: gthread. The views are synchronous Django, so threads let a
worker overlap the PostgreSQL and Redis round trips of several requests
while one process per core keeps the interpreter busy.
TODO(when the benchmark issue lands): choose class and counts by the
figures in docs/performance.md, not by this reasoning.
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
