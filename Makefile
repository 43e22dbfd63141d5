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

.PHONY: run test test-fast lint format model stack stack-down bench clean lock audit mutation

# `make run` installs what the service runs on, nothing more; `make test` adds the tools.
# Both install only the pinned, hashed lock files (`make lock` writes them from pyproject.toml);
# the project itself goes in last, with no dependencies and no build step fetching anything.
$(RUNTIME): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

# --no-deps: the lock is complete by construction, and overrules one cap (lock-overrides.txt).
$(DEV): $(RUNTIME) requirements-dev.lock
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r requirements-dev.lock
	touch $@

# uv resolves once for every Python the project supports (3.11-3.13) and every platform:
# a marker keeps a pin to the Pythons that need it (libcst needs pyyaml-ft on 3.13 only).
# The build backend (setuptools, wheel) is pinned too: the project installs without isolation.
# Pins are kept unless pyproject.toml needs otherwise; `make lock LOCK_ARGS=--upgrade`
# (or `--upgrade-package NAME`) moves them on.
BUILD_REQUIRES := $(BIN)/python -c 'import tomllib; \
	print(*tomllib.load(open("pyproject.toml", "rb"))["build-system"]["requires"], sep="\n")'
LOCK_FLAGS := --quiet --universal --python-version 3.11 --generate-hashes \
	--custom-compile-command 'make lock' $(LOCK_ARGS)
lock: $(DEV)
	$(BUILD_REQUIRES) | $(BIN)/uv pip compile $(LOCK_FLAGS) -o requirements.lock pyproject.toml -
	$(BUILD_REQUIRES) | $(BIN)/uv pip compile $(LOCK_FLAGS) --extra dev -c requirements.lock \
		--override lock-overrides.txt -o requirements-dev.lock pyproject.toml -
	sed -i '1i # Every pin with its hashes, for Python 3.11-3.13; `make run` installs it with\n# pip install --require-hashes. Regenerate with `make lock` (see the Makefile).' \
		requirements.lock
	sed -i '1i # requirements.lock plus the tools of `make test`, `make audit` and `make mutation`,\n# for Python 3.11-3.13, installed with --require-hashes. Regenerate with `make lock`.' \
		requirements-dev.lock

# Known advisories against every pin of both lock files; fails unless every pin was checked.
audit: $(DEV)
	$(BIN)/python -m scripts.audit requirements.lock requirements-dev.lock

# Mutation testing of auth/ and app/ratelimit/ (not part of `make test`): the security core
# first, at low priority, for MUTATION_MINUTES; the next run resumes where this one stopped.
MUTATION_MINUTES ?= 25
mutation: $(DEV) $(MODELS)
	nice -n 10 $(BIN)/python -m scripts.mutation --minutes $(MUTATION_MINUTES)

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
	rm -rf $(VENV) models/v1 models/v2 var .pytest_cache .ruff_cache mutants
