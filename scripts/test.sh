#!/usr/bin/env bash
# The README test command: bootstrap, then build, typecheck, lint and every test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
bash scripts/install-test-tools.sh
export TURBO_TELEMETRY_DISABLED=1
rm -rf .test-results
pnpm test
