# The two commands of the README are the contract: `make demo` and `make test`.
# Both create and use a virtual environment at .venv and install what they need.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
OUT := out

.PHONY: demo test install system-deps lint typecheck bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# Editable install with the test extras; re-run when the project's metadata changes.
$(STAMP): pyproject.toml $(BIN)/python
	$(BIN)/python -m pip install -q -e ".[test]"
	touch $@

install: $(STAMP)

# Debian packages the tests use: chromium (browser tests) and redis-server (cancel bus).
system-deps:
	bash scripts/system-deps.sh

demo: install
	$(BIN)/deepsearch-nb demo --out $(OUT)

lint: install
	$(BIN)/ruff check deepsearch_nb tests
	$(BIN)/ruff format --check deepsearch_nb tests

typecheck: install
	$(BIN)/mypy

test: install system-deps lint typecheck
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python -m deepsearch_nb.bench runtime
	$(BIN)/python -m deepsearch_nb.bench local-agent
	$(BIN)/python -m deepsearch_nb.bench stream

clean:
	rm -rf $(OUT) build dist .pytest_cache .mypy_cache .ruff_cache
