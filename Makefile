# Redbutton — `make run` to try it, `make test` to check it.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint typecheck migrations-check install install-dev clean vendor-plotly

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev]'
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

## run: install, migrate the SQLite default, load the demo into an empty database, serve
run: $(VENV)/.installed
	@export REDBUTTON_ENVIRONMENT=$${REDBUTTON_ENVIRONMENT:-development} && \
	export REDBUTTON_BASE_URL=$${REDBUTTON_BASE_URL:-http://$(HOST):$(PORT)} && \
	$(BIN)/redbutton migrate && \
	$(BIN)/redbutton demo --if-empty && \
	$(BIN)/redbutton serve --host $(HOST) --port $(PORT)

## test: lint, type-check, prove models and migrations agree, run the tests
test: lint typecheck migrations-check
	$(BIN)/pytest

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy app tests bench

migrations-check: $(VENV)/.installed-dev
	@tmp=$$(mktemp -d) && \
	REDBUTTON_ENVIRONMENT=development REDBUTTON_DATABASE_URL=sqlite:///$$tmp/check.db $(BIN)/alembic upgrade head && \
	REDBUTTON_ENVIRONMENT=development REDBUTTON_DATABASE_URL=sqlite:///$$tmp/check.db $(BIN)/alembic check && \
	rm -rf $$tmp

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache test-artifacts

## vendor-plotly: copy plotly.js from the installed Python plotly package into static/vendor
vendor-plotly: $(VENV)/.installed
	cp "$$($(BIN)/python -c 'import pathlib, plotly; print(pathlib.Path(plotly.__file__).parent / "package_data" / "plotly.min.js")')" static/vendor/plotly.min.js

.PHONY: bench bench-quick bench-plans
## bench: generate 200 teams x 104 weeks on SQLite and PostgreSQL, measure, write bench/RESULTS.md
bench: $(VENV)/.installed-dev
	$(BIN)/python -m bench.run

## bench-quick: the same at 10 teams x 26 weeks with short bursts (CI smoke)
bench-quick: $(VENV)/.installed-dev
	$(BIN)/python -m bench.run --quick

## bench-plans: query plans of the dashboard's SQL on the generated databases
bench-plans: $(VENV)/.installed-dev
	$(BIN)/python -m bench.plans
## vendor: rebuild static/vendor/blindrsa.bundle.js from the lock file (needs Node 20+ and npm)
# Pinned versions (package-lock.json, `npm ci`) and fixed esbuild flags: the same bundle, byte for
# byte, on every machine. The bundle is committed, so running Redbutton never needs Node.
.PHONY: vendor
vendor:
	npm ci --ignore-scripts --no-audit --no-fund
	npx --no-install esbuild static/js/src/ballot-entry.js --bundle --platform=browser \
		--format=iife --global-name=RedbuttonBlindRSA --minify --legal-comments=eof \
		--target=es2020 --outfile=static/vendor/blindrsa.bundle.js
	{ echo "static/vendor/blindrsa.bundle.js bundles @cloudflare/blindrsa-ts (Apache-2.0), which"; \
	  echo "embeds a build of the Stanford JavaScript Crypto Library (BSD-2-Clause or GPL-2.0)."; \
	  echo; echo "== @cloudflare/blindrsa-ts =="; cat node_modules/@cloudflare/blindrsa-ts/LICENSE.txt; \
	  echo; echo "== sjcl =="; cat node_modules/sjcl/LICENSE.txt; } > static/vendor/blindrsa.bundle.LICENSES.txt
