#!/usr/bin/env bash
# ops/alertmanager/install.sh - install alertmanager.yml with the secrets it cannot read from files itself.
# Guide: docs/operations/alerting.md.
#
#   ops/alertmanager/install.sh [--secrets-dir DIR] [--out FILE] [--group GROUP]
#
# Reads the secret files of DIR (default /etc/prometheus/secrets):
#   slack_webhook_url    Slack incoming-webhook URL      (read by Alertmanager: api_url_file)
#   smtp_password        SMTP password of auth_username  (read by Alertmanager: auth_password_file)
#   telegram_bot_token   Telegram bot token              (Alertmanager 0.25 has no bot_token_file: copied into
#                                                        the installed file, which is therefore 0640 too)
# writes the configuration to FILE (default /etc/prometheus/alertmanager.yml, the Debian package's path) with
# mode 0640 and group GROUP (default prometheus, when it exists), pointing the *_file fields at DIR, and checks
# the result with amtool check-config before moving it into place. Reload Alertmanager afterwards
# (systemctl reload prometheus-alertmanager). Exit codes: 0 installed, 1 a secret file or the check failed.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
TEMPLATE="$SCRIPT_DIR/alertmanager.yml"
SHIPPED_SECRETS=/etc/prometheus/secrets
SECRETS_DIR="$SHIPPED_SECRETS"
OUT=/etc/prometheus/alertmanager.yml
GROUP=prometheus

die() {
  echo "[alertmanager-install] ERROR: $*" >&2
  exit 1
}

while [ $# -gt 0 ]; do
  case "$1" in
  --secrets-dir) SECRETS_DIR="${2:?--secrets-dir needs a directory}"; shift 2 ;;
  --out) OUT="${2:?--out needs a file}"; shift 2 ;;
  --group) GROUP="${2:?--group needs a group}"; shift 2 ;;
  -h | --help) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//'; exit 0 ;;
  *) die "unknown argument: $1 (use --secrets-dir DIR, --out FILE, --group GROUP)" ;;
  esac
done
SECRETS_DIR="${SECRETS_DIR%/}"
command -v amtool >/dev/null 2>&1 || die "amtool not found (Debian: apt-get install prometheus-alertmanager)"

problems=()
for name in slack_webhook_url smtp_password telegram_bot_token; do
  f="$SECRETS_DIR/$name"
  if [ ! -s "$f" ]; then
    problems+=("$f is missing or empty")
  elif [ -n "$(find "$f" -perm /007)" ]; then
    problems+=("$f is readable by others; chmod 0640 it")
  fi
done
token=""
if [ -s "$SECRETS_DIR/telegram_bot_token" ]; then
  token="$(tr -d '[:space:]' <"$SECRETS_DIR/telegram_bot_token")"
  # a bot token is <digits>:<letters, digits, _ and ->; anything else would not be a token (and could break YAML)
  [[ "$token" =~ ^[0-9]+:[A-Za-z0-9_-]+$ ]] || problems+=("$SECRETS_DIR/telegram_bot_token does not hold a bot token (<digits>:<letters>)")
fi
if [ "${#problems[@]}" -gt 0 ]; then
  printf '[alertmanager-install] ERROR: %s\n' "${problems[@]}" >&2
  exit 1
fi

config="$(<"$TEMPLATE")"
config="${config//"$SHIPPED_SECRETS/"/"$SECRETS_DIR/"}"
config="${config//TELEGRAM_BOT_TOKEN/"$token"}"

tmp="$(mktemp "$(dirname "$OUT")/.alertmanager.yml.XXXXXX")"
trap 'rm -f "$tmp"' EXIT
printf '%s\n' "$config" >"$tmp"
chmod 0640 "$tmp"
if getent group "$GROUP" >/dev/null 2>&1; then chgrp "$GROUP" "$tmp"; fi
check="$(amtool check-config "$tmp" 2>&1)" || die "amtool check-config failed: $check"
mv -f "$tmp" "$OUT"
trap - EXIT
echo "[alertmanager-install] installed $OUT (secrets from $SECRETS_DIR)"
