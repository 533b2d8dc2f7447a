#!/usr/bin/env bash
# ops/p35_dashboard_queries.sh [a|b|c|d|e|all] [arg] - the P3.5 "why are we not trading?" queries for hosts
# that only have the deploy tree. A thin wrapper around "quantumctl dashboard"; the queries themselves live in
# packages/cli so the script and the CLI can never disagree.
#
#   a        decision distribution and top reasons of the last 5 minutes ("why are we not trading now?")
#   b [SYMS] top gates per symbol from the minute buckets (SYMS: "BTCUSDT ETHUSDT")
#   c        gate share: top reasons with their share of the 5m window
#   d [PCT]  drift detection: reasons above PCT percent of the 5m window
#   e        P3.5 service health: processed total, pending, lag, consumer group
#   all      a to e (the default)
#
# Defaults of [arg] are quantumctl's (quantumctl dashboard --help).
# Redis: REDIS_URL when set (passed as --redis-url), else quantumctl's own default. Extra arguments after
# [arg] (e.g. --json) are passed through. quantumctl is looked up as: $QUANTUMCTL, quantumctl on PATH,
# the CLI of the tree this script belongs to, /opt/quantum/current/packages/cli/dist/main.js.
# Docs: docs/operations/p35-action-mapping.md
set -euo pipefail

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//'; }

query="${1:-all}"
case "$query" in
a | b | c | d | e | all) ;;
-h | --help)
  usage
  exit 0
  ;;
*)
  usage >&2
  echo "p35_dashboard_queries: unknown query '$query' (expected a, b, c, d, e or all)" >&2
  exit 2
  ;;
esac
shift || true

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
node_bin="${NODE:-node}"
cmd=()
if [ -n "${QUANTUMCTL:-}" ]; then
  cmd=("$QUANTUMCTL")
elif command -v quantumctl >/dev/null 2>&1; then
  cmd=(quantumctl)
elif [ -f "$script_dir/../packages/cli/dist/main.js" ]; then
  cmd=("$node_bin" "$script_dir/../packages/cli/dist/main.js")
elif [ -f /opt/quantum/current/packages/cli/dist/main.js ]; then
  cmd=("$node_bin" /opt/quantum/current/packages/cli/dist/main.js)
else
  echo "p35_dashboard_queries: quantumctl not found (not on PATH, no packages/cli/dist/main.js here or in /opt/quantum/current)" >&2
  exit 127
fi

args=(dashboard "$query" "$@")
if [ -n "${REDIS_URL:-}" ]; then args+=(--redis-url "$REDIS_URL"); fi
exec "${cmd[@]}" "${args[@]}"
