#!/usr/bin/env bash
# The README run command. Filled in by the local-stack work; for now it bootstraps and builds.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
pnpm build >/dev/null
echo "quantum-p3: packages built; services are not yet part of the local stack."
