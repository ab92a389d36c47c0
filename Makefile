# The two set-up commands: `make run` and `make test`. Everything else is a helper of theirs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install run serve setup test test-fast lint format bench clean-db

$(INSTALLED): requirements.txt requirements-dev.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	touch $(INSTALLED)

install: $(INSTALLED)

## Install, migrate, load reference and demo data, create a demo admin if there is no user, serve.
run: setup serve

setup: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed --demo
	$(BIN)/python manage.py create_demo_users --url http://$(HOST):$(PORT)/admin/

serve: install
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

## The whole suite, slow tests included.
test: install
	$(BIN)/python -m pytest

## The suite without the slow tests, for quick iterations.
test-fast: install
	$(BIN)/python -m pytest -m "not slow"

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## Service vs raw PostgreSQL on the development database (docs/performance.md); BENCH_ARGS="--only aggregate".
BENCH_ARGS ?= --incidents 100000
bench: install
	$(BIN)/python -m benchmarks $(BENCH_ARGS)

## Stop and delete the embedded database (it is re-created on the next command).
clean-db:
	-$(BIN)/python -c "from config.embedded_db import stop_embedded; stop_embedded()"
	$(BIN)/python -c "import shutil; from config.embedded_db import PGDATA; shutil.rmtree(PGDATA, ignore_errors=True)"
