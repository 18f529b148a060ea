# Green Points: `make demo` sets everything up and runs the main job; `make test` runs every check.
# Set-up steps are stamped, so repeated runs skip what is already done.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# schemathesis (the API's fuzz test) lives apart: it needs a newer hypothesis than brownie pins.
FUZZ_VENV := .venv-fuzz
export PATH := $(CURDIR)/node_modules/.bin:$(CURDIR)/$(BIN):$(PATH)

.PHONY: setup solc-link demo test lint gas clean chromium

# What the demo needs; the test command adds the fuzz test's environment.
setup: $(VENV)/.installed node_modules/.installed solc-link artifacts/.fingerprint dapp/dist/.built

$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[dev]"
	touch $@

$(FUZZ_VENV)/.installed: constraints-fuzz.txt
	test -x $(FUZZ_VENV)/bin/python || $(PYTHON) -m venv $(FUZZ_VENV)
	$(FUZZ_VENV)/bin/pip install --quiet --disable-pip-version-check -c constraints-fuzz.txt schemathesis
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# Brownie looks for solc-v<version> in ~/.solcx; point it at this checkout's shim (always, so the
# link never names another clone).
solc-link:
	@mkdir -p $(HOME)/.solcx
	@ln -sfn $(CURDIR)/tools/solc-shim.js $(HOME)/.solcx/solc-v0.8.37

artifacts/.fingerprint: $(VENV)/.installed node_modules/.installed $(wildcard contracts/*.sol contracts/*/*.sol)
	$(BIN)/greenpoints build

# The DApp's bundle (served by the API at /app): ABIs generated from artifacts/, then esbuild.
dapp/dist/.built: node_modules/.installed artifacts/.fingerprint dapp/build.mjs dapp/tsconfig.json $(wildcard dapp/static/* dapp/src/*.ts dapp/src/*/*.ts dapp/src/*/*/*.ts dapp/src/i18n/*.json)
	node dapp/build.mjs

# Debian's Chromium for the browser tests (installed when missing).
chromium:
	tools/ensure-chromium.sh

demo: setup
	@tools/ensure-postgres.sh || echo "no local PostgreSQL: the demo starts an embedded one"
	$(BIN)/greenpoints demo

test: setup $(FUZZ_VENV)/.installed chromium
	tools/ensure-postgres.sh
	tools/run-tests.sh

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

gas: setup
	$(BIN)/python scripts/gas_report.py

clean:
	rm -rf build artifacts .greenpoints verify reports dapp/dist dapp/src/generated
