# riskreview developer / CI entry points. Run `make help` for the list.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help

VENV  := .venv
PY    := $(VENV)/bin/python
PIP   := $(VENV)/bin/pip
STAMP := $(VENV)/.installed

# `make test` defaults: PostgreSQL + Redis on localhost (override via the environment).
TEST_DATABASE_URL      := postgres://postgres@127.0.0.1:5432/riskreview
TEST_CELERY_BROKER_URL := redis://127.0.0.1:6379/15

# Environment for `make test`: keep caller-provided values, else the defaults above.
TEST_ENV = DATABASE_URL="$${DATABASE_URL:-$(TEST_DATABASE_URL)}" \
           CELERY_BROKER_URL="$${CELERY_BROKER_URL:-$(TEST_CELERY_BROKER_URL)}"

# Environment for `make run` / `make dev`: embedded defaults (SQLite DB and broker
# chosen by the settings when DATABASE_URL / CELERY_BROKER_URL are unset), a
# persistent generated SECRET_KEY unless one is given, and the venv on PATH so
# the Procfile commands resolve.
RUN_ENV = SECRET_KEY="$${SECRET_KEY:-$$(cat var/secret_key)}" \
          RISK_REVIEW_THRESHOLD="$${RISK_REVIEW_THRESHOLD:-0.1}" \
          ALLOWED_HOSTS="$${ALLOWED_HOSTS:-localhost,127.0.0.1}" \
          PATH="$(CURDIR)/$(VENV)/bin:$$PATH"

.PHONY: help install run dev prepare test lint format bench screenshots clean

help:
	@echo "Targets:"
	@echo "  install  create $(VENV) and install requirements-dev.txt (runtime + test tools;"
	@echo "           re-runs only when a requirements file changes)"
	@echo "  run      migrate, collectstatic, seed demo data, train model, create demo users,"
	@echo "           then start web + worker + beat (Procfile) on SQLite, no external services"
	@echo "  dev      same preparation, then Procfile.dev (runserver with DEBUG=true)"
	@echo "  test     ruff, mypy, import contracts, migration check and pytest against"
	@echo "           PostgreSQL + Redis"
	@echo "  lint     ruff check + ruff format --check + mypy"
	@echo "  format   ruff format + ruff check --fix"
	@echo "  bench    run bench/run_all.py"
	@echo "  screenshots  run the browser tests and copy their pictures to docs/screenshots/"
	@echo "  clean    remove var/ and $(VENV)"

# --- Environment -------------------------------------------------------------

$(PY):
	@echo "==> creating virtualenv $(VENV)"
	python3.11 -m venv $(VENV) || { echo "python3.11 unavailable, falling back to python3"; rm -rf $(VENV); python3 -m venv $(VENV); }

# One venv for running and testing: the runtime pins (requirements.txt, all the
# production image installs) plus the test and dev tools (requirements-dev.txt).
$(STAMP): requirements.txt requirements-dev.txt | $(PY)
	@echo "==> installing requirements-dev.txt into $(VENV)"
	$(PIP) install --disable-pip-version-check -r requirements-dev.txt
	touch $@

install: $(STAMP)

var:
	mkdir -p var

var/secret_key: | var $(STAMP)
	@echo "==> generating $@"
	umask 077 && $(PY) -c 'import secrets;print(secrets.token_urlsafe(50))' > $@.tmp && mv $@.tmp $@

# --- Running the product -----------------------------------------------------

prepare: install var/secret_key
	$(RUN_ENV) $(PY) manage.py migrate --noinput
	$(RUN_ENV) $(PY) manage.py collectstatic --noinput
	$(RUN_ENV) $(PY) manage.py seed_demo --orders 5000 --seed 7
	$(RUN_ENV) $(PY) manage.py train_model --unless-active
	$(RUN_ENV) $(PY) manage.py create_demo_users

# honcho hands PORT (default 5000) to the first process; pin it to $PORT or 8000.
run: prepare
	WEB_PORT="$${PORT:-8000}" $(RUN_ENV) $(VENV)/bin/honcho start -f Procfile -p "$${PORT:-8000}"

dev: prepare
	DEBUG=true WEB_PORT="$${PORT:-8000}" $(RUN_ENV) $(VENV)/bin/honcho start -f Procfile.dev -p "$${PORT:-8000}"

# --- Quality -----------------------------------------------------------------

test: install
	@echo "==> ruff check"
	$(VENV)/bin/ruff check .
	@echo "==> mypy (pyproject.toml [tool.mypy])"
	$(TEST_ENV) $(VENV)/bin/mypy
	@echo "==> import contracts (.importlinter)"
	$(VENV)/bin/lint-imports
	@echo "==> checking for missing migrations"
	$(TEST_ENV) $(PY) manage.py makemigrations --check --dry-run --settings=riskreview.settings_test
	@echo "==> pytest"
	$(TEST_ENV) $(PY) -m pytest

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: install
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

bench: install
	$(PY) -m bench.run_all

# The browser tests write their screenshots to the git-ignored var/screenshots/;
# the README's pictures in docs/screenshots/ change only when this is run.
DOC_SCREENSHOTS := queue case dashboard

screenshots: install
	$(TEST_ENV) $(PY) -m pytest -q -m browser tests/browser
	for name in $(DOC_SCREENSHOTS); do cp var/screenshots/$$name.png docs/screenshots/; done

clean:
	rm -rf var $(VENV)
