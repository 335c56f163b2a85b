# The two commands of the README are the contract: `make demo` and `make test`.
# Both create and use a virtual environment at .venv and install what they need.
# `make check` is the fast part of `make test` (no browser, no kernel, no services): run it before a commit.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
OUT := out

.PHONY: demo test check install system-deps lint typecheck labextension-test bench clean

# jlpm (yarn, pinned by jupyter-builder) and jupyter-builder come from the venv.
JLPM := cd labextension && PATH="$(CURDIR)/$(BIN):$$PATH" jlpm
LABEXT_SOURCES := labextension/package.json labextension/yarn.lock $(wildcard labextension/src/*.ts labextension/style/*)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# Editable install with the test extras. The build backend also builds the lab extension (node), so
# re-run when the project's metadata or the extension's sources change (else a stale build ships).
$(STAMP): pyproject.toml $(LABEXT_SOURCES) $(BIN)/python
	$(BIN)/python -m pip install -q -e ".[test]"
	touch $@

install: $(STAMP)

# Debian packages the tests use: chromium (browser tests) and redis-server (cancel bus).
system-deps:
	bash scripts/system-deps.sh

# The main job, offline: the local agent researches the shipped corpus with scripted answers (CLI), then
# the quickstart notebook is executed headless and exported to HTML.
demo: install
	$(BIN)/deepsearch-nb demo --out-dir $(OUT)
	$(BIN)/jupyter nbconvert --to notebook --execute notebooks/quickstart.ipynb \
	  --output-dir $(OUT) --output quickstart.executed.ipynb
	$(BIN)/jupyter nbconvert --to html $(OUT)/quickstart.executed.ipynb --output-dir $(OUT)
	@echo "demo: report in $(OUT)/report.md; notebook in $(OUT)/quickstart.executed.ipynb and .html"

lint: install
	$(BIN)/ruff check deepsearch_nb tests
	$(BIN)/ruff format --check deepsearch_nb tests

typecheck: install
	$(BIN)/mypy

# The extension's own checks: TypeScript types (the view types against the schema's included),
# prettier, ESLint, src/schema.ts up to date with report.v1.schema.json, and vitest (jsdom).
labextension-test: install
	$(JLPM) install --immutable
	$(JLPM) typecheck
	$(JLPM) lint:check
	$(JLPM) lint:eslint
	$(JLPM) schema:check
	$(JLPM) test

# The fast checks: ruff (lint, format), mypy, and the extension's checks above. About half a minute.
check: lint typecheck labextension-test

test: install system-deps lint typecheck labextension-test
	$(BIN)/python -m pytest

# Every benchmark, one after the other (the server one needs redis-server: make system-deps).
bench: install
	for name in runtime cancel leak loop local-agent stream stream-browser faults sdk server step render; do $(BIN)/python -m deepsearch_nb.bench $$name || exit 1; done

clean:
	rm -rf $(OUT) build dist .pytest_cache .mypy_cache .ruff_cache
