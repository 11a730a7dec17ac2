#!/usr/bin/env bash
# Installs Chromium, which the status page's browser test (controller-app StatusPageBrowserIT) drives headless, from
# Debian's "chromium" package. Needs root the first time; later runs find chromium and install nothing.
#
#   scripts/chromium/install.sh        # prints the path of chromium on stdout (progress goes to stderr)
#   mvn -B verify -pl controller-app -am -Dchromium="$(scripts/chromium/install.sh)"
set -euo pipefail

log() { echo "chromium: $*" >&2; }
fail() { echo "chromium: ERROR: $*" >&2; exit 1; }

for name in chromium chromium-browser; do
  if path="$(command -v "$name")"; then
    echo "$path"
    exit 0
  fi
done
[ "$(id -u)" = 0 ] || fail "chromium is missing and installing Debian's chromium package needs root (or install it" \
  "yourself and pass -Dchromium=<its path>)"
command -v apt-get >/dev/null || fail "chromium is missing and this machine has no apt-get; install Chromium and pass" \
  "-Dchromium=<its path>"
export DEBIAN_FRONTEND=noninteractive
if ! apt-cache show chromium >/dev/null 2>&1; then
  log "package lists do not know chromium yet: apt-get update"
  apt-get update -q >&2
fi
log "apt-get install chromium (headless use only: no recommended extras)"
apt-get install -y -q --no-install-recommends chromium >&2
path="$(command -v chromium)" || fail "the chromium package installed no chromium on PATH"
log "$("$path" --version 2>/dev/null | head -1)"
echo "$path"
