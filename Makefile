# Everything a developer or CI runs. `make run` serves the API with demo
# data; `make test` runs every check CI runs.
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# Embedded PostgreSQL and Redis unless DATABASE_URL and REDIS_URL are set.
WITH_SERVICES := $(PY) scripts/devservices.py --
TEST_SETTINGS := DJANGO_SETTINGS_MODULE=contestplatform.settings.test
# Production settings with throwaway values, for the deploy check only.
DEPLOY_ENV := DJANGO_SETTINGS_MODULE=contestplatform.settings.production \
	DJANGO_SECRET_KEY=$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))') \
	DJANGO_ALLOWED_HOSTS=contests.example.com DJANGO_SECURE_HSTS_PRELOAD=true

.PHONY: help venv run serve test lint format typecheck checks pytest clean bench \
	bench-stream bench-inprocess

help:
	@echo "make run    serve the API on http://127.0.0.1:8000 with demo data"
	@echo "make test   lint, types, migrations, schema, deploy checks, pytest"
	@echo "make format rewrite the code with ruff format and ruff check --fix"
	@echo "make bench  the benchmark suite: one table (docs/performance.md)"

venv: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	@python=$$(scripts/find-python.sh) && \
	  { [ -x $(PY) ] || "$$python" -m venv $(VENV); }
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@touch $(STAMP)

run: venv
	$(WITH_SERVICES) $(MAKE) --no-print-directory serve

# Runs with DATABASE_URL and REDIS_URL set (by `make run` or by you). The
# banner comes before gunicorn binds; its "Listening at" line means it is up.
serve: venv
	$(PY) manage.py migrate --no-input
	$(PY) manage.py seed_demo
	@echo "contestplatform: starting on http://127.0.0.1:8000/api/v1/docs/ (Ctrl-C stops it)"
	@echo "live streams: http://127.0.0.1:8001/api/v1/contests/<slug>/leaderboard/stream/"
	VENV=$(VENV) scripts/serve.sh

test: venv
	$(MAKE) --no-print-directory lint typecheck
	$(WITH_SERVICES) $(MAKE) --no-print-directory checks pytest

lint:
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format:
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

typecheck:
	$(VENV)/bin/mypy .

checks:
	$(TEST_SETTINGS) $(PY) manage.py makemigrations --check --dry-run
	$(TEST_SETTINGS) $(PY) manage.py spectacular --validate --fail-on-warn \
	  --file /dev/null
	$(DEPLOY_ENV) $(PY) manage.py check --deploy --fail-level WARNING

pytest:
	$(VENV)/bin/pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache

# The benchmark suite (bench/run.py; knobs in its docstring). It needs wrk,
# the Debian package, and installs it when apt-get can. Without
# DATABASE_URL it uses the embedded PostgreSQL; Redis is always its own.
bench: venv
	@command -v wrk >/dev/null || { echo "bench: installing wrk (apt-get)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	  apt-get install -y -qq wrk >/dev/null; }
	$(WITH_SERVICES) $(PY) bench/run.py

# Live streams: 1,000 subscribers while submissions arrive (issue 5).
bench-stream: venv
	@command -v wrk >/dev/null || { echo "bench: installing wrk (apt-get)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
	  apt-get install -y -qq wrk >/dev/null; }
	$(WITH_SERVICES) $(PY) bench/stream_bench.py $(BENCH_ARGS)

# CPU per request in-process, on the database `make bench` seeded.
bench-inprocess: venv
	$(WITH_SERVICES) $(PY) bench/inprocess.py $(BENCH_ARGS)
