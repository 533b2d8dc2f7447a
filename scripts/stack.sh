#!/usr/bin/env bash
# The README run command: the whole system locally on embedded defaults.
#   bash scripts/stack.sh [--duration N] [--symbols S ...] [--state-file PATH] [--log-dir DIR] [--help]
# Installs what a fresh machine lacks (scripts/bootstrap.sh: pnpm, redis-server, workspace deps), builds
# quietly, then hands over to the supervisor (packages/stack), which starts a local redis-server (or uses
# REDIS_URL), the three services in paper mode, the dev governor and the demo feeder, and stops all of
# them on Ctrl-C. QUANTUM_SKIP_INSTALL=1 skips the `pnpm install` step (tests).
set -euo pipefail
cd "$(dirname "$0")/.."
export TURBO_TELEMETRY_DISABLED=1

for arg in "$@"; do
  case "$arg" in
  -h | --help)
    if [ -f packages/stack/dist/main.js ]; then exec node packages/stack/dist/main.js --help; fi
    sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'
    exit 0
    ;;
  esac
done

bash scripts/bootstrap.sh
echo "[stack] building (pnpm build)" >&2
build_log="$(mktemp)"
if ! pnpm build >"$build_log" 2>&1; then
  cat "$build_log" >&2
  rm -f "$build_log"
  echo "[stack] build failed" >&2
  exit 1
fi
rm -f "$build_log"
exec node packages/stack/dist/main.js "$@"
