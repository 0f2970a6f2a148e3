# The two commands a newcomer needs: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test lint bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.dev-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

## Set up and run Killick locally on its embedded defaults (SQLite, local network).
run: $(VENV)/.installed
	$(BIN)/killick dev

## Install the dev tools and run the linter and the whole test suite.
test: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

$(VENV)/.bench-installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	touch $@ $(VENV)/.installed

## Measure every hot path against the HTTP stack's own floor, on SQLite and PostgreSQL
## (docs/benchmarks.md); writes bench/results/latest.md and latest.json. Takes ~20 minutes.
## Options: make bench BENCH_ARGS="--quick --db sqlite --only api"
bench: $(VENV)/.bench-installed
	$(BIN)/python -m bench $(BENCH_ARGS)

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache killick.egg-info
