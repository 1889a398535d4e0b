# PrintStash: `make run` starts the vault, `make test` runs every test.
# Needs only Python >= 3.11 and Node >= 20; everything else is installed on the way.

SHELL := /bin/bash
UV := $(shell command -v uv 2>/dev/null || echo python3 -m uv)
BACKEND := backend
FRONTEND := frontend
export VAULT_DATA_DIR ?= $(CURDIR)/data

.PHONY: run test uv backend frontend browsers lint test-backend test-frontend fuzz migrate clean

run: backend frontend migrate
	./scripts/run.sh

test: backend frontend browsers lint test-frontend test-backend

uv:
	@$(UV) --version >/dev/null 2>&1 || python3 -m pip install --user --quiet uv \
	  || python3 -m pip install --user --quiet --break-system-packages uv

backend: uv
	cd $(BACKEND) && $(UV) sync --extra dev --quiet

# npm ci only when the lock file changed (it wipes node_modules); the build is quick.
frontend:
	@if [ -f $(FRONTEND)/package.json ]; then \
	  cd $(FRONTEND) && { [ node_modules/.package-lock.json -nt package-lock.json ] \
	    || npm ci --no-audit --no-fund --loglevel=error; } && npm run build; \
	fi

# Debian's chromium for the browser tests (root installs it when missing).
browsers:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium missing: sudo apt-get install chromium (browser tests will be skipped)"; fi; }

migrate: backend
	cd $(BACKEND) && $(UV) run alembic upgrade head

lint: backend
	cd $(BACKEND) && $(UV) run ruff check . ../tests ../bench ../scripts
	cd $(BACKEND) && $(UV) run mypy printstash

test-frontend:
	@if [ -f $(FRONTEND)/package.json ]; then cd $(FRONTEND) && npm test; fi

test-backend: backend
	cd $(BACKEND) && $(UV) run pytest ../tests

# The bounded schemathesis run over the OpenAPI alone (test-backend runs it too, in tests/fuzz).
fuzz: backend
	cd $(BACKEND) && $(UV) run pytest ../tests/fuzz

clean:
	rm -rf $(BACKEND)/.venv $(FRONTEND)/node_modules $(FRONTEND)/dist .peers
