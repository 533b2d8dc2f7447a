#!/usr/bin/env bash
# Installs what a fresh machine lacks for this repo: pnpm 12 (via npm), redis-server (via apt),
# then the workspace dependencies. Safe to run again; it only installs what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
export TURBO_TELEMETRY_DISABLED=1

if ! command -v pnpm >/dev/null 2>&1 || [[ "$(pnpm --version 2>/dev/null)" != 12.* ]]; then
  echo "[bootstrap] installing pnpm@12.21.0" >&2
  npm i -g pnpm@12.21.0 >/dev/null 2>&1
fi
if ! command -v redis-server >/dev/null 2>&1; then
  echo "[bootstrap] installing redis-server (apt)" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq redis-server redis-sentinel >/dev/null
fi
if [ "${QUANTUM_SKIP_INSTALL:-}" != "1" ]; then
  pnpm install --frozen-lockfile --reporter=append-only >&2
fi
