#!/usr/bin/env bash
# Installs promtool, which checks and unit-tests the chart's alert rules (charts/podcidr-controller/files/alerts.yaml),
# from Debian's "prometheus" package. Needs root the first time; later runs find promtool and install nothing.
#
#   scripts/prometheus/install.sh        # prints the path of promtool on stdout (progress goes to stderr)
#   mvn -B verify -pl charts -am -Dpromtool="$(scripts/prometheus/install.sh)"
set -euo pipefail

log() { echo "prometheus: $*" >&2; }
fail() { echo "prometheus: ERROR: $*" >&2; exit 1; }

if path="$(command -v promtool)"; then
  echo "$path"
  exit 0
fi
[ "$(id -u)" = 0 ] || fail "promtool is missing and installing Debian's prometheus package needs root"
export DEBIAN_FRONTEND=noninteractive
if ! apt-cache show prometheus >/dev/null 2>&1; then
  log "package lists do not know prometheus yet: apt-get update"
  apt-get update -q >&2
fi
log "apt-get install prometheus (for promtool)"
# --no-install-recommends: promtool is what we need, not the node exporter or the web console libraries
apt-get install -y -q --no-install-recommends prometheus >&2
# the package starts a Prometheus server where systemd runs; it is not needed for promtool
path="$(command -v promtool)" || fail "the prometheus package installed no promtool on PATH"
log "$("$path" --version 2>&1 | head -1)"
echo "$path"
