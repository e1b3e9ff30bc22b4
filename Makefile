# The two commands of the README: `make run` serves the demo shop, `make test` runs every check.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
PORT   ?= 8000
HOST   ?= 127.0.0.1
# The fake gateway posts its webhooks here; follow PORT unless told otherwise.
export PUBLIC_URL ?= http://$(HOST):$(PORT)

.PHONY: install run test lint typecheck architecture pytest bench lighthouse browser-tools clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11+ is required"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall only when the project's dependencies change.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

install: $(VENV)/.installed

run: install
	$(BIN)/commerce db upgrade
	$(BIN)/commerce seed --demo
	$(BIN)/commerce serve --host $(HOST) --port $(PORT)

lint: install
	$(BIN)/ruff check src tests benchmarks tools
	$(BIN)/ruff format --check src tests benchmarks tools

typecheck: install
	$(BIN)/mypy src

architecture: install
	$(BIN)/lint-imports --no-cache

# axe-core for the browser tests (pinned in tools/axe/package-lock.json); skipped without npm,
# in which case the browser tests skip too (except in CI, where they must run).
tools/axe/node_modules/.installed: tools/axe/package-lock.json
	@if command -v npm >/dev/null; then \
		npm ci --prefix tools/axe --no-audit --no-fund --silent && touch $@; \
	else echo "npm not found: the browser tests will be skipped"; fi

browser-tools: tools/axe/node_modules/.installed

pytest: install browser-tools
	$(BIN)/pytest

test: lint typecheck architecture pytest

bench: install
	$(BIN)/python benchmarks/run.py

# Lighthouse (pinned in tools/lighthouse) with Debian's Chromium on the demo shop's home and a
# product page: prints the four category scores.
tools/lighthouse/node_modules/.installed: tools/lighthouse/package-lock.json
	npm ci --prefix tools/lighthouse --no-audit --no-fund --silent && touch $@

lighthouse: install tools/lighthouse/node_modules/.installed
	$(BIN)/python tools/lighthouse/run.py

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache .hypothesis test-artifacts \
		tools/axe/node_modules tools/lighthouse/node_modules
