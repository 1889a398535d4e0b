#!/usr/bin/env bash
# `make run`: the api (:8000), the worker and, once built, the web app (:3000), until Ctrl-C.
# The Makefile has already installed dependencies and run `uv run alembic upgrade head`.
set -euo pipefail
cd "$(dirname "$0")/.."
# uv from `pip install --user` lives in the user base's bin (the Makefile puts it on PATH too).
export PATH="$(python3 -m site --user-base)/bin:$PATH"

export VAULT_DATA_DIR=${VAULT_DATA_DIR:-$PWD/data}
API_PORT=${API_PORT:-8000}
WEB_PORT=${WEB_PORT:-3000}
export PRINTSTASH_API_URL=${PRINTSTASH_API_URL:-http://127.0.0.1:$API_PORT}
mkdir -p "$VAULT_DATA_DIR"
LOG="$VAULT_DATA_DIR/api.log"
pids=()
# Each process gets its own process group, so stopping also stops children (vite under npm).
cleanup() { for pid in "${pids[@]}"; do kill -- "-$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
trap 'exit 0' INT TERM

(cd backend && exec setsid uv run printstash serve --host 127.0.0.1 --port "$API_PORT" >"$LOG" 2>&1) &
pids+=($!)
(cd backend && exec setsid uv run printstash worker) &
pids+=($!)
url=http://localhost:$API_PORT/api/v1/docs
if [ -f frontend/dist/index.html ]; then
  (cd frontend && exec setsid npm run preview --silent -- --port "$WEB_PORT" --strictPort) &
  pids+=($!)
  url=http://localhost:$WEB_PORT
fi
python3 - "$API_PORT" <<'PY'
import sys, time, urllib.request
for _ in range(150):
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/api/v1/health/live", timeout=1)
        break
    except OSError:
        time.sleep(0.2)
PY
(exec setsid tail -f "$LOG") &
pids+=($!)
echo
echo "PrintStash is running: $url   (data: $VAULT_DATA_DIR; Ctrl-C stops)"
grep -m1 -o 'setup token: .*' "$LOG" || true
wait -n "${pids[@]}"
