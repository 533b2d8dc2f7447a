#!/usr/bin/env bash
# Installs the host tools the ops test suite (tests/ops) needs, only when they are missing:
#   promtool        - only the binary, taken from Debian's prometheus package (no Prometheus server installed)
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

install_promtool() {
  if command -v promtool >/dev/null 2>&1; then return 0; fi
  need_apt promtool
  apt_update_once
  TMP_DIR="$(mktemp -d)"
  local tmp="$TMP_DIR"
  log "downloading the prometheus package to extract promtool"
  (cd "$tmp" && apt-get download prometheus >/dev/null 2>&1) || {
    log "apt-get download prometheus failed"
    exit 1
  }
  local deb
  deb="$(find "$tmp" -maxdepth 1 -name 'prometheus_*.deb' | head -n 1)"
  if [ -z "$deb" ]; then
    log "no prometheus .deb downloaded"
    exit 1
  fi
  dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp" ./usr/bin/promtool
  $SUDO install -m 0755 "$tmp/usr/bin/promtool" /usr/local/bin/promtool
  rm -rf "$tmp"
  TMP_DIR=""
  log "installed $(/usr/local/bin/promtool --version 2>&1 | head -n 1)"
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
install_promtool
log "promtool, systemd-analyze and curl are present"
