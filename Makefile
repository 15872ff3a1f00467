# Vigil — the two commands: `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test test-all check-migrations bench lint venv migrate demo clean

# The virtualenv is rebuilt whenever pyproject.toml changes.
$(VENV)/.installed: pyproject.toml
	@command -v $(PYTHON) >/dev/null || { echo "Vigil needs Python 3.11 ($(PYTHON) not found; set PYTHON=...)"; exit 1; }
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	@touch $@

venv: $(VENV)/.installed

migrate: venv
	$(PY) manage.py migrate --noinput

demo: migrate
	$(PY) manage.py seed_demo

## run: the whole app (web, Celery worker, Celery beat) with demo data.
## Embedded by default (SQLite + a broker needing no server); set DATABASE_URL
## and REDIS_URL to use PostgreSQL and Redis.
run: demo
	@echo ""
	@echo "  Vigil is starting on http://$(HOST):$(PORT)/"
	@echo "  Demo logins (password: vigil-demo): admin (staff), alice (payments lead), bob (payments),"
	@echo "  charlie (search lead), ivan (platform lead). Admin: http://$(HOST):$(PORT)/admin/"
	@echo "  API docs: http://$(HOST):$(PORT)/api/docs/   Stop with Ctrl-C."
	@echo ""
	@# Stopping (Ctrl-C, or runserver ending): the worker and beat get one TERM each, and the
	@# shell waits for them. Not `kill 0`: that signals the shell itself and re-enters the trap,
	@# and it kills the worker's pool processes under it in the middle of its warm shutdown.
	@trap 'trap - EXIT INT TERM; kill $$worker $$beat 2>/dev/null; wait' EXIT INT TERM; \
	  $(VENV)/bin/celery -A config worker --loglevel=INFO --concurrency=2 & worker=$$!; \
	  $(VENV)/bin/celery -A config beat --loglevel=INFO & beat=$$!; \
	  $(PY) manage.py runserver $(HOST):$(PORT)

check-migrations: venv
	$(PY) manage.py makemigrations --check --dry-run >/dev/null || { echo "Models changed without a migration: run manage.py makemigrations"; exit 1; }

## test: the fast tier, every test that starts no process (no make run, gunicorn, Alertmanager,
## redis-server, live server or browser): about a minute on SQLite.
test: check-migrations
	$(VENV)/bin/pytest -m "not process and not e2e" $(PYTEST_ARGS)

## test-all: the whole suite, adding the tests marked `process` and the browser tests (`e2e`);
## they need Debian's chromium and prometheus-alertmanager, and redis-server (.ci/run installs them).
test-all: check-migrations
	$(VENV)/bin/pytest $(PYTEST_ARGS)

## bench: the benchmarks in tests/benchmarks/ (not part of make test); they print their figures.
bench: venv
	@set -e; for b in tests/benchmarks/bench_*.py; do echo "== $$b"; $(PY) $$b; done

lint: venv
	$(VENV)/bin/ruff check .

clean:
	rm -rf $(VENV) .broker staticfiles
