# Tablée — the two commands of the README are `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000
SCALE ?= association

.PHONY: install run serve migrate demo test test-fast test-browser quality format bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

migrate: install
	$(BIN)/python manage.py migrate --noinput

demo: migrate
	$(BIN)/python manage.py load_referential
	$(BIN)/python manage.py load_demo

# The server, with the worker of background tasks (large imports) beside it; both stop together.
run: demo
	@$(BIN)/python manage.py db_worker > var/worker.log 2>&1 & worker=$$!; \
	trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	TABLEE_DEBUG=1 $(BIN)/python manage.py runserver $(HOST):$(PORT)

# The whole suite, browser journeys included (they need Chromium: see the README).
test: install
	$(BIN)/pytest

test-fast: install
	$(BIN)/pytest -m "not browser"

test-browser: install
	$(BIN)/pytest -m browser

quality: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python manage.py makemigrations --check --dry-run

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# SCALE=association|region|national|all; BENCH_ARGS="--quick --json benchmarks/results.json"
bench: install
	$(BIN)/python -m benchmarks.run --scale $(SCALE) $(BENCH_ARGS)

clean:
	rm -rf $(VENV) var
