#!/usr/bin/env bash
# `make run`: api on :8000, worker, and (once built) the frontend on :3000, until Ctrl-C.
set -euo pipefail
cd "$(dirname "$0")/.."
UV=$(command -v uv || echo "python3 -m uv")
export VAULT_DATA_DIR=${VAULT_DATA_DIR:-$PWD/data}
mkdir -p "$VAULT_DATA_DIR"
LOG="$VAULT_DATA_DIR/api.log"
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

(cd backend && exec $UV run printstash serve --host 127.0.0.1 --port 8000) > >(tee "$LOG") 2>&1 &
pids+=($!)
(cd backend && exec $UV run printstash worker) &
pids+=($!)
if [ -f frontend/package.json ]; then
  (cd frontend && exec npm run preview --silent) &
  pids+=($!)
  url=http://localhost:3000
else
  url=http://localhost:8000/api/v1/docs
fi
for _ in $(seq 100); do curl -fsS http://127.0.0.1:8000/api/v1/health/live >/dev/null 2>&1 && break; sleep 0.2; done
echo
echo "PrintStash is running: $url   (data: $VAULT_DATA_DIR; Ctrl-C stops)"
grep -m1 -o 'setup token: .*' "$LOG" 2>/dev/null || true
wait -n "${pids[@]}"
