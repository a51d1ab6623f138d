#!/usr/bin/env bash
# The dashboard's front-end dependencies (Apache ECharts) from the npm registry,
# exactly as package-lock.json pins them, into node_modules/; the ledger serves them
# from there (services/ledger/api_dashboard.py). Nothing is built and nothing is
# fetched at run time. Idempotent: `npm ci` runs only when the lock changed.
source "$(dirname "$0")/common.sh"
cd "$ROOT"
STAMP="node_modules/.jsb-lock.sha256"
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$want" && -f node_modules/echarts/dist/echarts.esm.min.js ]]; then
  exit 0
fi
command -v npm >/dev/null 2>&1 || {
  log "installing nodejs and npm from Debian packages"
  export DEBIAN_FRONTEND=noninteractive
  SUDO=""; [[ $(id -u) -eq 0 ]] || SUDO="sudo"
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq nodejs npm >/dev/null
}
log "installing the dashboard's front-end packages (npm ci)"
npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error >/dev/null
echo "$want" >"$STAMP"
log "front end ready (node_modules/echarts)"
