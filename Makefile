# Two commands matter: `make run` and `make test`. Everything else is a step of theirs.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUNTIME := $(VENV)/.installed-runtime
DEV := $(VENV)/.installed-dev
MODELS := models/v1/manifest.json models/v2/manifest.json

export HOST ?= 127.0.0.1
export PORT ?= 8000
export STATE_DIR ?= ./var

.PHONY: run test test-fast lint format model stack stack-down bench clean

# `make run` installs what the service runs on, nothing more; `make test` adds the tools.
$(RUNTIME): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $@

$(DEV): $(RUNTIME)
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

$(MODELS) &: data/housing.csv $(RUNTIME)
	$(BIN)/housing-api train

model: $(MODELS)

run: $(RUNTIME) $(MODELS)
	$(BIN)/housing-api serve

test: $(DEV) $(MODELS)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports
	$(BIN)/pytest

# The edit loop: everything but the real nginx stack (and its browser and load tests).
test-fast: $(DEV) $(MODELS)
	$(BIN)/ruff check .
	$(BIN)/pytest -m "not stack" -x -q

lint: $(DEV)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(DEV)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# nginx (TLS, HTTPS_PORT=8443, HTTP_PORT=8080) → Gunicorn (WORKERS=2, APP_INSTANCES=1) → Redis,
# all on loopback, state under $(STATE_DIR); returns once /readyz answers through nginx.
stack: $(DEV) $(MODELS)
	$(BIN)/python -m scripts.stack up

stack-down:
	$(BIN)/python -m scripts.stack down

# The product's stack against the guide's app, A/B/A/B with wrk; writes bench/RESULTS.md.
bench: $(DEV) $(MODELS)
	$(BIN)/python -m bench.run

clean:
	rm -rf $(VENV) models/v1 models/v2 var .pytest_cache .ruff_cache
