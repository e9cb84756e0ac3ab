# The two commands a new user needs: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run build check test lint goldens bench bench-build bench-complaints bench-queue fuzz crash multiserver clean a11y

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)

a11y: $(STAMP)  ## axe-core (npm, package-lock.json) in Debian's Chromium: no WCAG 2.1 AA violation on any backend page
	test -f node_modules/axe-core/axe.min.js || npm ci --no-audit --no-fund
	PORTAL_REQUIRE_BROWSER=1 $(BIN)/python -m pytest tests/test_a11y.py -q -s

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

run: $(STAMP)  ## build the site from content/ and serve it on http://127.0.0.1:8000
	$(BIN)/portal build
	$(BIN)/portal serve

build: $(STAMP)
	$(BIN)/portal build

check: $(STAMP)
	$(BIN)/portal check

lint: $(STAMP)  ## ruff, the import layers (import-linter) and the type checker (mypy)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

test: lint  ## ruff check, ruff format --check, lint-imports, mypy, pytest
	$(BIN)/python -m pytest

goldens: $(STAMP)  ## rewrite tests/golden/ after an intended change to the pages
	$(BIN)/python -m pytest tests/test_render.py --update-goldens -q

bench: $(STAMP)  ## every figure of docs/performance.md: the build, the staff queue, the complaint POST
	$(BIN)/python -m bench.build
	$(BIN)/python -m bench.queue
	$(BIN)/python -m bench.complaints

bench-build: $(STAMP)  ## build time, memory and sizes at 10,000 services; writes its section of docs/performance.md
	$(BIN)/python -m bench.build

bench-complaints: $(STAMP)  ## complaint POST under gunicorn (SQLite, PostgreSQL) against a bare insert, load from wrk
	$(BIN)/python -m bench.complaints

bench-queue: $(STAMP)  ## staff queue at 100,000 cases, SQLite and PostgreSQL; writes its section of docs/performance.md
	$(BIN)/python -m bench.queue

fuzz: $(STAMP)  ## Hypothesis fuzzing: 10,000 examples per form and API endpoint; prints examples and failures per form
	PORTAL_FUZZ_EXAMPLES=10000 $(BIN)/python -m pytest tests/test_fuzz.py -q -p no:cacheprovider

crash: $(STAMP)  ## SIGKILL gunicorn workers under load (SQLite, PostgreSQL); every acknowledged receipt must be stored
	$(BIN)/python -m bench.crash

multiserver: $(STAMP)  ## nginx + two gunicorn hosts: shared limits, sessions, idempotency, slow clients, a host killed
	$(BIN)/python -m bench.multiserver

clean:
	rm -rf site build .pytest_cache .ruff_cache
