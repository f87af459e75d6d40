# The README's commands. Each target sets up what it needs on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app marketplace
PORT ?= 5000

.PHONY: run test test-sqlite test-postgres lint bench assets install migration clean system-deps

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

# The npm build, then fingerprinted names and gzip/Brotli copies (marketplace/static_assets.py).
marketplace/static/build/manifest.json: node_modules/.installed build-assets.mjs marketplace/assets/app.scss \
		$(wildcard marketplace/static/js/*.js) scripts/fingerprint-assets $(VENV)/.installed
	npm run --silent build
	$(BIN)/python scripts/fingerprint-assets

install: $(VENV)/.installed
assets: marketplace/static/build/manifest.json

run: install assets
	$(FLASK) db upgrade
	$(FLASK) seed-demo --if-empty
	$(FLASK) demo-accounts
	$(FLASK) run --host 127.0.0.1 --port $(PORT)

# Debian packages the suite drives: chromium (tests/browser) and qpdf (PDF checks). Installed
# when missing and possible (root with apt-get); otherwise it says loudly what will be skipped.
system-deps:
	@./scripts/ensure-system-deps

# The whole suite on SQLite, then again on PostgreSQL when TEST_DATABASE_URL is set. The
# suite includes the browser journeys (once, on SQLite) and the API fuzzing (on both).
test: system-deps install assets lint test-sqlite test-postgres

test-sqlite: install
	env -u TEST_DATABASE_URL $(BIN)/pytest
	@[ -x /usr/bin/chromium ] || echo "!! /usr/bin/chromium is missing: the browser journeys, the axe-core scan and the keyboard checks were SKIPPED"

test-postgres: install
	@if [ -n "$$TEST_DATABASE_URL" ]; then \
		echo "== PostgreSQL: $$TEST_DATABASE_URL (browser journeys ran on the SQLite pass; skipped here)"; \
		$(BIN)/pytest; \
	else \
		echo "== TEST_DATABASE_URL is not set: PostgreSQL run skipped"; \
	fi

# ruff, then the import-linter contracts in pyproject.toml: areas import only downwards.
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check . || (echo "run: $(BIN)/ruff format ." && false)
	$(BIN)/lint-imports --no-cache

bench: install assets
	$(BIN)/python bench/run_all.py

# A new migration revision for what the models changed: make migration MESSAGE="what changed".
migration: install
	./scripts/new-migration "$(MESSAGE)"

clean:
	rm -rf $(VENV) node_modules marketplace/static/build
