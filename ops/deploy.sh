#!/usr/bin/env bash
# ops/deploy.sh - install or update Quantum P3 on a host. Idempotent: running it again with the same release
# changes nothing. Guide: docs/operations/deploy.md.
#
#   ops/deploy.sh [--tarball FILE | --source DIR] [--version V] [--root DIR] [--dry-run]
#                 [--health-timeout SEC] [--keep N] [--restart]
#   ops/deploy.sh --rollback [--root DIR] [--dry-run] [--health-timeout SEC]
#   ops/deploy.sh --pack FILE [--version V]
#
# Release source (one of):
#   --tarball FILE   a built release (made with --pack): services/*/dist, packages/cli, node_modules, etc/, ops/
#   --source DIR     an already-built release tree with the same layout
#   (neither)        build this repository: pnpm install --frozen-lockfile, pnpm build, pnpm deploy --prod
# Steps: install the tree into /opt/quantum/releases/<version> (an existing release with the same content is
# reused, one with different content is refused), install the service account (sysusers.d), env files into
# /etc/quantum ONLY when absent (root:root 0600; never appended to or overwritten), unit files into
# /etc/systemd/system, daemon-reload when a unit changed, check every service's env file with the new release
# (node main.js --check-config; any problem stops the run before current moves), flip /opt/quantum/current
# atomically, start the
# services (enable --now) or restart them when the release or a unit changed, wait for every /health, and
# roll back to the previous release when one stays unhealthy. Keeps the newest --keep releases (default 5).
# It never runs git reset, never edits an existing env file and never deletes the current or previous release.
#
# Preflight: the Node.js the units run (/usr/bin/node) must be >= 20.19 (docs/operations/deploy.md#nodejs).
# Environment overrides (tests, staging hosts):
#   NODE=/path          the node binary to check and to run --check-config with (default /usr/bin/node, the
#                       one ExecStart of the units names)
#   SYSTEMCTL=/path     systemctl to call (default: systemctl; with --root other than / and no SYSTEMCTL the
#                       services are not touched and no health check runs)
#   HEALTH_URLS="u1 u2" health URLs to wait for instead of http://METRICS_HOST:<port>/health from the env files
#   PNPM_DEPLOY_FLAGS   extra flags for "pnpm deploy" when building (default: --prefer-offline)
# Exit codes: 0 ok, 1 usage or validation error (including a too old Node.js or an env file that does not
# validate), 2 unhealthy release rolled back, 3 unhealthy and no rollback
# was possible (first install, or the unhealthy release was already current).
set -euo pipefail
umask 022

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$SCRIPT_DIR/.." && pwd)"

# Unit, code directory, env file and metrics-port variables of each service, in start order (P3.3 first so
# its consumer group is reading before the Apply Layer publishes plans).
UNITS=(quantum-position-state-brain quantum-apply-layer quantum-p35-decision-intelligence)
SERVICE_DIRS=(position-state-brain apply-layer decision-intelligence)
ENV_NAMES=(position-state-brain apply-layer p35-decision-intelligence)
PORT_VARS=("P33_METRICS_PORT" "PROMETHEUS_PORT APPLY_METRICS_PORT" "P35_METRICS_PORT")
DEFAULT_PORTS=(8045 8000 8046)
TARGET_UNIT=quantum-p3.target
NODE="${NODE:-/usr/bin/node}"
NODE_MIN_MAJOR=20
NODE_MIN_MINOR=19
PACKAGES_TO_DEPLOY=(services/apply-layer services/position-state-brain services/decision-intelligence packages/cli)

ROOT="/"
DRY_RUN=0
TARBALL=""
SOURCE=""
VERSION=""
HEALTH_TIMEOUT=60
KEEP=5
FORCE_RESTART=0
MODE=deploy
PACK_OUT=""
UNITS_CHANGED=0

log() { echo "[deploy] $*"; }
warn() { echo "[deploy] WARNING: $*" >&2; }
die() {
  echo "[deploy] ERROR: $*" >&2
  exit 1
}
usage() {
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//'
}

while [ $# -gt 0 ]; do
  case "$1" in
  --root) ROOT="${2:?--root needs a directory}"; shift 2 ;;
  --dry-run) DRY_RUN=1; shift ;;
  --tarball) TARBALL="${2:?--tarball needs a file}"; shift 2 ;;
  --source) SOURCE="${2:?--source needs a directory}"; shift 2 ;;
  --version) VERSION="${2:?--version needs a value}"; shift 2 ;;
  --health-timeout) HEALTH_TIMEOUT="${2:?--health-timeout needs seconds}"; shift 2 ;;
  --keep) KEEP="${2:?--keep needs a number}"; shift 2 ;;
  --restart) FORCE_RESTART=1; shift ;;
  --rollback) MODE=rollback; shift ;;
  --pack) MODE=pack; PACK_OUT="${2:?--pack needs an output file}"; shift 2 ;;
  -h | --help) usage; exit 0 ;;
  *) usage >&2; die "unknown argument: $1" ;;
  esac
done

[[ "$HEALTH_TIMEOUT" =~ ^[0-9]+$ ]] || die "--health-timeout must be whole seconds"
if ! [[ "$KEEP" =~ ^[0-9]+$ ]] || [ "$KEEP" -lt 2 ]; then die "--keep must be a number >= 2"; fi
[ -z "$TARBALL" ] || [ -z "$SOURCE" ] || die "--tarball and --source exclude each other"
[ -z "$TARBALL" ] || [ -f "$TARBALL" ] || die "tarball not found: $TARBALL"
[ -z "$SOURCE" ] || [ -d "$SOURCE" ] || die "source directory not found: $SOURCE"
if [ -n "$VERSION" ] && ! [[ "$VERSION" =~ ^[A-Za-z0-9][A-Za-z0-9._+-]*$ ]]; then
  die "--version may contain letters, digits and . _ + - only"
fi
[ -d "$ROOT" ] || die "--root directory not found: $ROOT"
ROOT="$(cd "$ROOT" && pwd)"
R="${ROOT%/}"

OPT="$R/opt/quantum"
RELEASES="$OPT/releases"
CURRENT="$OPT/current"
PREVIOUS="$OPT/previous"
ETC_Q="$R/etc/quantum"
UNIT_DIR="$R/etc/systemd/system"

MANAGE_SERVICES=1
if [ -z "${SYSTEMCTL:-}" ]; then
  SYSTEMCTL=systemctl
  if [ -n "$R" ]; then MANAGE_SERVICES=0; fi
fi

STAGE=""
cleanup() { if [ -n "$STAGE" ] && [ -d "$STAGE" ]; then rm -rf "$STAGE"; fi; }
trap cleanup EXIT

# --- helpers -----------------------------------------------------------------------------------------------

dry() { [ "$DRY_RUN" -eq 1 ]; }

# systemctl, printed instead of run in dry-run mode.
sctl() {
  if dry; then
    log "[dry-run] would run: $SYSTEMCTL $*"
  else
    "$SYSTEMCTL" "$@"
  fi
}

# A deterministic description of a tree: type, mode, path and link target of every entry, then the sha256
# of every regular file. Two trees with equal manifests have equal content.
tree_manifest() {
  (
    cd "$1"
    find . -mindepth 1 -printf '%y %m %p -> %l\n' | LC_ALL=C sort
    find . -type f -print0 | LC_ALL=C sort -z | xargs -0 -r sha256sum
  )
}

# Value of the first KEY=value line for any of the given keys (last occurrence wins, like systemd).
env_value() {
  local file="$1" key v
  shift
  [ -f "$file" ] || return 0
  for key in "$@"; do
    v="$(sed -n "s/^[[:space:]]*${key}=//p" "$file" | tail -n 1 | tr -d '\r')"
    v="${v#\"}"; v="${v%\"}"; v="${v#\'}"; v="${v%\'}"
    if [ -n "$v" ]; then
      printf '%s\n' "$v"
      return 0
    fi
  done
}

# Normalise ownership and permissions of a staged tree: root-owned, readable by the service account,
# writable by nobody else.
normalise_tree() {
  if [ "$(id -u)" -eq 0 ]; then chown -R 0:0 "$1"; fi
  chmod -R u+rwX,go+rX,go-w "$1"
}

# --- building and staging ----------------------------------------------------------------------------------

build_from_repo() {
  local stage="$1" pkg name
  command -v pnpm >/dev/null 2>&1 || die "pnpm not found (needed to build; or pass --tarball/--source)"
  log "building $REPO_DIR (pnpm install --frozen-lockfile && pnpm build)"
  (cd "$REPO_DIR" && pnpm install --frozen-lockfile && TURBO_TELEMETRY_DISABLED=1 pnpm build) >&2
  for pkg in "${PACKAGES_TO_DEPLOY[@]}"; do
    name="$(node -p "require('$REPO_DIR/$pkg/package.json').name")"
    log "pnpm deploy --prod $name -> $pkg"
    mkdir -p "$(dirname "$stage/$pkg")"
    # shellcheck disable=SC2086 # PNPM_DEPLOY_FLAGS is a list of flags
    (cd "$REPO_DIR" && pnpm --filter "$name" deploy --prod ${PNPM_DEPLOY_FLAGS:---prefer-offline} "$stage/$pkg") >&2
  done
  cp -R "$REPO_DIR/etc" "$REPO_DIR/ops" "$REPO_DIR/docs" "$stage/"
  if [ -z "$VERSION" ] && git -C "$REPO_DIR" rev-parse --git-dir >/dev/null 2>&1; then
    VERSION="$(git -C "$REPO_DIR" describe --tags --always --dirty 2>/dev/null || true)"
    case "$VERSION" in *-dirty) VERSION="$VERSION-$(tree_manifest "$stage" | sha256sum | cut -c1-8)" ;; esac
  fi
}

# Fill $STAGE (a fresh directory on the releases file system) with the release tree.
stage_release() {
  mkdir -p "$RELEASES"
  STAGE="$(mktemp -d "$RELEASES/.incoming.XXXXXX")"
  if [ -n "$TARBALL" ]; then
    tar -xf "$TARBALL" -C "$STAGE" --no-same-owner
    # accept a tarball whose content sits in one top-level directory
    local entries
    entries="$(find "$STAGE" -mindepth 1 -maxdepth 1)"
    if [ ! -d "$STAGE/services" ] && [ "$(printf '%s\n' "$entries" | wc -l)" -eq 1 ] && [ -d "$entries" ]; then
      find "$entries" -mindepth 1 -maxdepth 1 -exec mv -t "$STAGE" {} +
      rmdir "$entries"
    fi
  elif [ -n "$SOURCE" ]; then
    tar -C "$SOURCE" --exclude=./.git -cf - . | tar -C "$STAGE" -xf - --no-same-owner
  else
    build_from_repo "$STAGE"
  fi
  normalise_tree "$STAGE"
  local i
  for i in "${!SERVICE_DIRS[@]}"; do
    [ -f "$STAGE/services/${SERVICE_DIRS[$i]}/dist/main.js" ] ||
      die "release tree has no services/${SERVICE_DIRS[$i]}/dist/main.js"
  done
  [ -f "$STAGE/packages/cli/dist/main.js" ] || warn "release tree has no packages/cli/dist/main.js (quantumctl)"
  if [ -z "$VERSION" ] && [ -f "$STAGE/VERSION" ]; then VERSION="$(tr -d '[:space:]' <"$STAGE/VERSION")"; fi
  if [ -z "$VERSION" ]; then VERSION="c$(tree_manifest "$STAGE" | sha256sum | cut -c1-12)"; fi
  [[ "$VERSION" =~ ^[A-Za-z0-9][A-Za-z0-9._+-]*$ ]] || die "invalid version: $VERSION"
}

# Move the staged tree to releases/$VERSION, or reuse an identical existing release.
install_release() {
  local dest="$RELEASES/$VERSION"
  if [ -e "$dest" ]; then
    if [ "$(tree_manifest "$dest")" = "$(tree_manifest "$STAGE")" ]; then
      log "release $VERSION already installed with the same content; reusing it"
      rm -rf "$STAGE"
      STAGE=""
      return 0
    fi
    die "release $VERSION already exists with different content; deploy it under a new --version"
  fi
  mv -T "$STAGE" "$dest"
  STAGE=""
  touch "$dest"
  log "installed release $VERSION into $dest"
}

# --- host configuration ------------------------------------------------------------------------------------

# Where unit files, env examples and sysusers.d come from: the release itself, else this script's repo.
config_source() {
  if [ -d "$1/etc/systemd/system" ]; then echo "$1/etc"; else echo "$REPO_DIR/etc"; fi
}

install_file_if_changed() { # src dest mode -> returns 0 when the file was (or would be) written
  local src="$1" dest="$2" mode="$3"
  if [ -f "$dest" ] && cmp -s "$src" "$dest"; then return 1; fi
  if dry; then
    log "[dry-run] would install $dest"
  else
    mkdir -p "$(dirname "$dest")"
    install -m "$mode" "$src" "$dest.tmp.$$"
    mv -T "$dest.tmp.$$" "$dest"
    log "installed $dest"
  fi
  return 0
}

install_service_account() {
  local etc="$1" conf="$R/etc/sysusers.d/quantum.conf"
  install_file_if_changed "$etc/sysusers.d/quantum.conf" "$conf" 0644 || true
  if dry; then
    log "[dry-run] would ensure the system account quantum exists"
    return 0
  fi
  if command -v systemd-sysusers >/dev/null 2>&1; then
    if [ -n "$R" ]; then systemd-sysusers --root="$ROOT" "$conf" >/dev/null; else systemd-sysusers "$conf" >/dev/null; fi
  elif [ -z "$R" ]; then
    getent passwd quantum >/dev/null ||
      useradd --system --user-group --no-create-home --home-dir / --shell /usr/sbin/nologin quantum
  else
    warn "systemd-sysusers not found: create the account quantum under $ROOT yourself"
  fi
}

install_env_files() {
  local etc="$1" i name target example missing
  if ! dry; then
    mkdir -p "$ETC_Q"
    chmod 0750 "$ETC_Q"
  fi
  for i in "${!ENV_NAMES[@]}"; do
    name="${ENV_NAMES[$i]}"
    target="$ETC_Q/$name.env"
    example="$etc/quantum/$name.env.example"
    [ -f "$example" ] || die "missing $example"
    if [ -e "$target" ]; then
      log "keeping existing $target (never overwritten)"
      if [ -n "$(find "$target" -perm /077)" ]; then warn "$target is readable by group/others; chmod 0600 it"; fi
      missing="$(comm -23 <(sed -n 's/^#\{0,1\}\([A-Z][A-Z0-9_]*\)=.*/\1/p' "$example" | sort -u) \
        <(sed -n 's/^#\{0,1\}\([A-Z][A-Z0-9_]*\)=.*/\1/p' "$target" | sort -u) | tr '\n' ' ')"
      if [ -n "$missing" ]; then log "variables documented in $example but absent from $target: $missing"; fi
    elif dry; then
      log "[dry-run] would create $target from $(basename "$example") (mode 0600)"
    else
      (umask 077 && cp "$example" "$target.tmp.$$")
      chmod 0600 "$target.tmp.$$"
      mv -T "$target.tmp.$$" "$target"
      log "created $target from $(basename "$example") (mode 0600): review it before going live"
    fi
  done
}

install_units() { # sets UNITS_CHANGED
  local etc="$1" f
  for f in "$etc"/systemd/system/*.service "$etc"/systemd/system/*.target; do
    [ -f "$f" ] || continue
    if install_file_if_changed "$f" "$UNIT_DIR/$(basename "$f")" 0644; then UNITS_CHANGED=1; fi
  done
}

install_cli_wrapper() {
  local tmp
  tmp="$(mktemp)"
  printf '#!/bin/sh\n# quantumctl of the current Quantum P3 release (installed by ops/deploy.sh)\nexec /usr/bin/node /opt/quantum/current/packages/cli/dist/main.js "$@"\n' >"$tmp"
  install_file_if_changed "$tmp" "$R/usr/local/bin/quantumctl" 0755 || true
  rm -f "$tmp"
}

# Point $1 (a symlink path) at $2 atomically: a new symlink under a temporary name renamed over the old one.
flip_link() {
  local link="$1" target="$2"
  if dry; then
    log "[dry-run] would point $link at $target"
    return 0
  fi
  ln -sfn "$target" "$link.tmp.$$"
  mv -T "$link.tmp.$$" "$link"
}

# --- preflight ---------------------------------------------------------------------------------------------

# The services run on $NODE: refuse a missing or too old one before anything is touched.
preflight_node() {
  local v major minor
  [ -x "$NODE" ] || die "Node.js not found at $NODE; install Node.js >= $NODE_MIN_MAJOR.$NODE_MIN_MINOR (docs/operations/deploy.md#nodejs)"
  v="$("$NODE" --version 2>/dev/null || true)"
  if ! [[ "$v" =~ ^v([0-9]+)\.([0-9]+)\. ]]; then die "cannot read the version of $NODE (got: ${v:-nothing})"; fi
  major="${BASH_REMATCH[1]}"
  minor="${BASH_REMATCH[2]}"
  if [ "$major" -lt "$NODE_MIN_MAJOR" ] || { [ "$major" -eq "$NODE_MIN_MAJOR" ] && [ "$minor" -lt "$NODE_MIN_MINOR" ]; }; then
    die "$NODE is $v; the services need Node.js >= $NODE_MIN_MAJOR.$NODE_MIN_MINOR (docs/operations/deploy.md#nodejs)"
  fi
  log "node $v at $NODE"
}

# Validate every service's env file with the release's own code (main.js --check-config opens no connection),
# in a clean environment like systemd's. Prints every problem of every service; dies when one fails.
check_configs() {
  local release="$1" i file failed=0 out_dir
  if dry; then
    log "[dry-run] would run each service's --check-config on its env file in $ETC_Q"
    return 0
  fi
  out_dir="$(mktemp -d)"
  # the three checks run side by side (each starts a node process); results are reported in service order
  for i in "${!SERVICE_DIRS[@]}"; do
    file="$ETC_Q/${ENV_NAMES[$i]}.env"
    (
      rc=0
      env -i PATH="$PATH" "$NODE" "$release/services/${SERVICE_DIRS[$i]}/dist/main.js" \
        --check-config --env-file "$file" >"$out_dir/$i.out" 2>&1 || rc=$?
      echo "$rc" >"$out_dir/$i.rc"
    ) &
  done
  wait
  for i in "${!SERVICE_DIRS[@]}"; do
    file="$ETC_Q/${ENV_NAMES[$i]}.env"
    if [ "$(cat "$out_dir/$i.rc")" = 0 ]; then
      log "config ok: $file"
    else
      failed=1
      echo "[deploy] ERROR: $file does not validate for ${UNITS[$i]}:" >&2
      sed 's/^/[deploy]   /' "$out_dir/$i.out" >&2
    fi
  done
  rm -rf "$out_dir"
  [ "$failed" -eq 0 ] || die "configuration check failed; current was not switched (fix the env files and run again)"
}

# --- services and health -----------------------------------------------------------------------------------

start_services() { # $1 = 1 to restart running services
  local restart="$1" unit
  if [ "$MANAGE_SERVICES" -eq 0 ]; then
    log "--root $ROOT without SYSTEMCTL: not starting services"
    return 0
  fi
  if [ "$UNITS_CHANGED" -eq 1 ]; then sctl daemon-reload; fi
  # is-enabled / is-active only read state, so they run in dry-run mode too
  if ! "$SYSTEMCTL" is-enabled --quiet "$TARGET_UNIT" >/dev/null 2>&1; then sctl enable "$TARGET_UNIT"; fi
  for unit in "${UNITS[@]}"; do
    if "$SYSTEMCTL" is-active --quiet "$unit.service" >/dev/null 2>&1; then
      if [ "$restart" -eq 1 ]; then sctl restart "$unit.service"; fi
    else
      sctl enable --now "$unit.service"
    fi
  done
}

health_urls() {
  if [ -n "${HEALTH_URLS:-}" ]; then
    local urls
    read -r -a urls <<<"$HEALTH_URLS"
    printf '%s\n' "${urls[@]}"
    return 0
  fi
  local i file host port
  for i in "${!ENV_NAMES[@]}"; do
    file="$ETC_Q/${ENV_NAMES[$i]}.env"
    # shellcheck disable=SC2086 # PORT_VARS entries are lists of alternative names
    port="$(env_value "$file" ${PORT_VARS[$i]})"
    host="$(env_value "$file" METRICS_HOST)"
    case "$host" in "" | 0.0.0.0) host=127.0.0.1 ;; "::") host="[::1]" ;; *:*) host="[$host]" ;; esac
    printf 'http://%s:%s/health\n' "$host" "${port:-${DEFAULT_PORTS[$i]}}"
  done
}

wait_healthy() {
  local pending=() still=() url deadline
  if [ "$MANAGE_SERVICES" -eq 0 ]; then return 0; fi
  mapfile -t pending < <(health_urls)
  if dry; then
    log "[dry-run] would wait up to ${HEALTH_TIMEOUT}s for: ${pending[*]}"
    return 0
  fi
  command -v curl >/dev/null 2>&1 || die "curl not found (needed for health checks)"
  log "waiting up to ${HEALTH_TIMEOUT}s for ${pending[*]}"
  deadline=$((SECONDS + HEALTH_TIMEOUT))
  while :; do
    still=()
    for url in "${pending[@]}"; do
      curl -fsS -o /dev/null --max-time 2 "$url" 2>/dev/null || still+=("$url")
    done
    if [ "${#still[@]}" -eq 0 ]; then
      log "all services healthy"
      return 0
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      warn "not healthy after ${HEALTH_TIMEOUT}s: ${still[*]}"
      return 1
    fi
    pending=("${still[@]}")
    sleep 0.5
  done
}

prune_releases() {
  local keep_cur keep_prev n=0 dir name
  keep_cur="$(readlink "$CURRENT" 2>/dev/null || true)"
  keep_prev="$(readlink "$PREVIOUS" 2>/dev/null || true)"
  # leftovers of interrupted runs (we hold the lock, so none is in use)
  find "$RELEASES" -mindepth 1 -maxdepth 1 -name '.incoming.*' -exec rm -rf {} +
  while IFS= read -r dir; do
    name="releases/$(basename "$dir")"
    n=$((n + 1))
    if [ "$n" -le "$KEEP" ] || [ "$name" = "$keep_cur" ] || [ "$name" = "$keep_prev" ]; then continue; fi
    log "removing old release $name"
    rm -rf "$dir"
  done < <(find "$RELEASES" -mindepth 1 -maxdepth 1 -type d ! -name '.*' -printf '%T@ %p\n' | sort -rn | cut -d' ' -f2-)
}

take_lock() {
  mkdir -p "$OPT"
  exec 9<"$OPT"
  flock -n 9 || die "another deploy is running on $OPT"
}

# --- modes -------------------------------------------------------------------------------------------------

do_pack() {
  STAGE="$(mktemp -d)"
  build_from_repo "$STAGE"
  normalise_tree "$STAGE"
  [ -n "$VERSION" ] || VERSION="c$(tree_manifest "$STAGE" | sha256sum | cut -c1-12)"
  echo "$VERSION" >"$STAGE/VERSION"
  tar -C "$STAGE" -czf "$PACK_OUT" .
  log "wrote release $VERSION to $PACK_OUT"
}

do_rollback() {
  local cur prev etc
  cur="$(readlink "$CURRENT" 2>/dev/null || true)"
  prev="$(readlink "$PREVIOUS" 2>/dev/null || true)"
  if [ -z "$prev" ] || [ ! -d "$OPT/$prev" ]; then die "no previous release to roll back to"; fi
  [ "$prev" != "$cur" ] || die "previous release is already current"
  dry || take_lock
  log "rolling back from ${cur:-nothing} to $prev"
  etc="$(config_source "$OPT/$prev")"
  install_units "$etc"
  flip_link "$CURRENT" "$prev"
  if [ -n "$cur" ]; then flip_link "$PREVIOUS" "$cur"; fi
  start_services 1
  wait_healthy || exit 3
}

do_deploy() {
  local prev_target new_target etc restart=0
  UNITS_CHANGED=0
  if dry; then
    local what="a build of $REPO_DIR"
    [ -z "$TARBALL" ] || what="$TARBALL"
    [ -z "$SOURCE" ] || what="$SOURCE"
    log "[dry-run] would install ${VERSION:-a new release} from $what into $RELEASES (nothing is changed)"
    etc="$(config_source "${SOURCE:-$REPO_DIR}")"
    new_target="releases/${VERSION:-<version>}"
  else
    take_lock
    stage_release
    install_release
    new_target="releases/$VERSION"
    etc="$(config_source "$OPT/$new_target")"
  fi
  prev_target="$(readlink "$CURRENT" 2>/dev/null || true)"

  install_service_account "$etc"
  install_env_files "$etc"
  check_configs "$OPT/$new_target"
  install_units "$etc"
  install_cli_wrapper

  if [ "$prev_target" != "$new_target" ]; then
    dry || log "switching current: ${prev_target:-none} -> $new_target"
    flip_link "$CURRENT" "$new_target"
    restart=1
  else
    log "current already points at $new_target"
  fi
  if [ "$UNITS_CHANGED" -eq 1 ] || [ "$FORCE_RESTART" -eq 1 ]; then restart=1; fi
  start_services "$restart"

  if wait_healthy; then
    if [ -n "$prev_target" ] && [ "$prev_target" != "$new_target" ]; then flip_link "$PREVIOUS" "$prev_target"; fi
    if dry; then
      log "[dry-run] done; nothing was changed"
    else
      prune_releases
      log "release $VERSION is live"
    fi
    return 0
  fi

  if [ -z "$prev_target" ] || [ "$prev_target" = "$new_target" ] || [ ! -d "$OPT/$prev_target" ]; then
    warn "release $new_target is unhealthy and there is no other release to roll back to"
    exit 3
  fi
  warn "rolling back to $prev_target"
  UNITS_CHANGED=0
  install_units "$(config_source "$OPT/$prev_target")"
  flip_link "$CURRENT" "$prev_target"
  start_services 1
  wait_healthy || warn "the previous release $prev_target is not healthy either"
  if ! dry; then
    rm -rf "${OPT:?}/$new_target"
    log "removed the unhealthy release $new_target"
  fi
  exit 2
}

case "$MODE" in
pack) do_pack ;;
rollback)
  preflight_node
  do_rollback
  ;;
deploy)
  preflight_node
  do_deploy
  ;;
esac
