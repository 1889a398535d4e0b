# PrintStash: `make run` starts the vault, `make test` runs every test.
# Needs only Python >= 3.11 and Node >= 20; everything else is installed on the way.

SHELL := /bin/bash
# `pip install --user uv` puts uv in the user base's bin, which a plain PATH (CI's) lacks; every
# recipe and every process a test starts (`make run`, `uv run alembic`) inherits this PATH.
export PATH := $(shell python3 -m site --user-base)/bin:$(PATH)
UV := uv
BACKEND := backend
FRONTEND := frontend
export VAULT_DATA_DIR ?= $(CURDIR)/data

.PHONY: run test uv backend frontend browsers postgres lint test-backend test-backend-pg test-frontend fuzz migrate clean \
	container-tools images test-containers

run: backend frontend migrate
	./scripts/run.sh

test: backend frontend browsers postgres container-tools lint test-frontend test-backend test-backend-pg

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

# podman (runc, netavark + aardvark-dns for service names, iptables) and debootstrap for the
# local base images; root installs what is missing. Settings: scripts/containers/containers.conf.
CONTAINER_PACKAGES := podman runc netavark aardvark-dns iptables uidmap debootstrap
container-tools:
	@missing=$$(for p in $(CONTAINER_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	  else echo "missing: sudo apt-get install $$missing"; exit 1; fi; fi

# The api (and worker) and frontend images: podman here, docker where an engine runs
# (scripts/images.sh; PRINTSTASH_VERSION is the tag, latest by default).
images: container-tools
	./scripts/images.sh

# The upgrade guide run with podman-compose against the real docker-compose.yml (builds the
# images of this checkout and of an earlier landed version on an older schema).
test-containers: backend container-tools
	cd $(BACKEND) && $(UV) run pytest ../tests/containers -m containers

# Debian's PostgreSQL server binaries: the tests start their own throwaway server with them.
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; \
	  else echo "postgresql missing: sudo apt-get install postgresql (the PostgreSQL test run will be skipped)"; fi; }

migrate: backend
	cd $(BACKEND) && $(UV) run alembic upgrade head

lint: backend
	cd $(BACKEND) && $(UV) run ruff check . ../tests ../bench ../scripts
	cd $(BACKEND) && $(UV) run mypy printstash

test-frontend:
	@if [ -f $(FRONTEND)/package.json ]; then cd $(FRONTEND) && npm test; fi

test-backend: backend
	cd $(BACKEND) && $(UV) run pytest ../tests

# The backend tests that touch the database, again on PostgreSQL (docs/scaling.md). Not
# gcode/ (no database) nor deploy/ (containers). Plus the farm's system test (2 api processes,
# 2 workers, real Moonraker; PostgreSQL only).
PG_TESTS := $(addprefix ../tests/backend/,auth core health printers compat library backups) ../tests/system/test_farm.py
test-backend-pg: backend postgres
	@if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then \
	  cd $(BACKEND) && VAULT_TEST_DB=postgresql $(UV) run pytest $(PG_TESTS); \
	else echo "skipped: no PostgreSQL server binaries"; fi

# The bounded schemathesis run over the OpenAPI alone (test-backend runs it too, in tests/fuzz).
fuzz: backend
	cd $(BACKEND) && $(UV) run pytest ../tests/fuzz

clean:
	rm -rf $(BACKEND)/.venv $(FRONTEND)/node_modules $(FRONTEND)/dist .peers
