#!/usr/bin/env bash
# Serve the API (gunicorn, WSGI, port 8000) and the live leaderboard
# streams (uvicorn, ASGI, port 8001) together. An open stream holds a
# coroutine in uvicorn, never a gunicorn worker. Both stop when either
# exits, and on Ctrl-C, SIGTERM or a hangup.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=${VENV:-.venv}
stream_port=${STREAM_PORT:-8001}
export DJANGO_SETTINGS_MODULE=${DJANGO_SETTINGS_MODULE:-contestplatform.settings.dev}
export STREAM_BASE_URL=${STREAM_BASE_URL:-http://127.0.0.1:$stream_port}

"$venv/bin/uvicorn" contestplatform.asgi:application \
  --host 127.0.0.1 --port "$stream_port" --no-access-log --lifespan off \
  --timeout-graceful-shutdown 3 &
stream=$!
"$venv/bin/gunicorn" -c gunicorn.conf.py contestplatform.wsgi:application &
api=$!

stop() { kill -TERM "$api" "$stream" 2>/dev/null || true; }
trap stop INT TERM HUP
# Whichever ends first (a crash, a signal) takes the other down with it.
wait -n "$api" "$stream" || true
stop
wait || true
