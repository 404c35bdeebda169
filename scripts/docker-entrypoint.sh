#!/bin/sh
# Apply migrations (and, when asked, demo data) before the server starts.
set -e
python manage.py migrate --no-input
if [ "${SEED_DEMO:-false}" = "true" ]; then
  python manage.py seed_demo
fi
exec "$@"
