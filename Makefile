# Two commands on a fresh clone: `make demo` and `make test`. Each sets up what it needs.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000
# The address members reach the demo at: every link in e-mails points there. Served on another interface
# (HOST=0.0.0.0), say which address the others use: make demo HOST=0.0.0.0 PUBLIC_URL=http://192.168.1.10:8000
PUBLIC_URL ?= $(or $(COCOTTE_PUBLIC_URL),http://$(HOST):$(PORT))

.PHONY: demo test lint format bench install clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

## Set up, migrate an SQLite database, load the demo data and serve on http://127.0.0.1:8000
demo: $(STAMP)
	$(BIN)/cocotte migrate --noinput
	$(BIN)/cocotte seed_demo
	@echo "\nCocotte : $(PUBLIC_URL)/  — API : $(PUBLIC_URL)/api/v1/docs  — équipe : $(PUBLIC_URL)/admin/\n"
	@# The task worker (e-mails, reminders) and the scheduler (periodic sweeps) run beside the web server
	@# and stop with it; all of them link to PUBLIC_URL.
	export COCOTTE_PUBLIC_URL='$(PUBLIC_URL)'; \
	trap 'kill 0' INT TERM EXIT; $(BIN)/cocotte db_worker --interval 2 & $(BIN)/cocotte scheduler & \
		$(BIN)/cocotte runserver $(HOST):$(PORT)

## Lint and run the whole test suite (SQLite unless DATABASE_URL says otherwise)
test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## Benchmarks on PostgreSQL (BENCH_DATABASE_URL); results printed and written to bench/results/
bench: $(STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .hypothesis
