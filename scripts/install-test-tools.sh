#!/usr/bin/env bash
# Installs the host tools the ops test suite (tests/ops) needs, only when they are missing:
#   promtool, prometheus      - only the binaries, taken from Debian's prometheus package (no service is
#                               installed or started; the tests run Prometheus on their own ports)
#   amtool, alertmanager      - likewise from Debian's prometheus-alertmanager package
#   systemd-analyze - from the systemd package (verify / security of the unit files)
#   curl            - used by ops/deploy.sh for health checks
# Safe to run again: a second run finds everything present and changes nothing.
set -euo pipefail

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive

TMP_DIR=""
cleanup() { if [ -n "$TMP_DIR" ]; then rm -rf "$TMP_DIR"; fi; }
trap cleanup EXIT

log() { echo "[install-test-tools] $*" >&2; }

APT_UPDATED=0
apt_update_once() {
  if [ "$APT_UPDATED" -eq 0 ]; then
    log "apt-get update"
    $SUDO apt-get update -qq >/dev/null
    APT_UPDATED=1
  fi
}

need_apt() {
  if ! command -v apt-get >/dev/null 2>&1; then
    log "apt-get not found: install $1 with your distribution's package manager"
    exit 1
  fi
}

# Install binaries from a Debian package without installing the package itself (no service is registered or
# started): install_from_deb PACKAGE COMMAND:PATH_IN_DEB... copies each missing COMMAND to /usr/local/bin.
install_from_deb() {
  local pkg="$1" spec cmd path missing=()
  shift
  for spec in "$@"; do
    cmd="${spec%%:*}"
    if ! command -v "$cmd" >/dev/null 2>&1; then missing+=("$spec"); fi
  done
  if [ "${#missing[@]}" -eq 0 ]; then return 0; fi
  need_apt "$pkg"
  apt_update_once
  TMP_DIR="$(mktemp -d)"
  local tmp="$TMP_DIR"
  log "downloading the $pkg package to extract ${missing[*]%%:*}"
  (cd "$tmp" && apt-get download "$pkg" >/dev/null 2>&1) || {
    log "apt-get download $pkg failed"
    exit 1
  }
  local deb
  deb="$(find "$tmp" -maxdepth 1 -name "${pkg}_*.deb" | head -n 1)"
  if [ -z "$deb" ]; then
    log "no $pkg .deb downloaded"
    exit 1
  fi
  for spec in "${missing[@]}"; do
    cmd="${spec%%:*}"
    path="${spec#*:}"
    dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp" ".$path"
    $SUDO install -m 0755 "$tmp$path" "/usr/local/bin/$cmd"
    log "installed /usr/local/bin/$cmd from $pkg"
  done
  rm -rf "$tmp"
  TMP_DIR=""
}

install_apt_tool() {
  local cmd="$1" pkg="$2"
  if command -v "$cmd" >/dev/null 2>&1; then return 0; fi
  need_apt "$pkg"
  apt_update_once
  log "apt-get install $pkg (for $cmd)"
  $SUDO apt-get install -y -qq --no-install-recommends "$pkg" >/dev/null
}

install_apt_tool curl curl
install_apt_tool systemd-analyze systemd
install_from_deb prometheus promtool:/usr/bin/promtool prometheus:/usr/bin/prometheus
# Debian names the server prometheus-alertmanager; the tests accept that name or alertmanager
if command -v prometheus-alertmanager >/dev/null 2>&1; then
  install_from_deb prometheus-alertmanager amtool:/usr/bin/amtool
else
  install_from_deb prometheus-alertmanager amtool:/usr/bin/amtool alertmanager:/usr/bin/prometheus-alertmanager
fi
log "promtool, prometheus, amtool, alertmanager, systemd-analyze and curl are present"
