#!/usr/bin/env bash
# Command-line tools the tests and benchmarks use beside Python, from Debian's packages:
# kcat (a non-Python Kafka client), wrk (the HTTP load generator of `make bench`) and
# chromium (the dashboard's browser tests drive it headless through Playwright's Python
# package; no browser is ever downloaded) with a CJK font (fonts-wqy-microhei), so that
# the page's Chinese shows in screenshots.
source "$(dirname "$0")/common.sh"
missing=()
command -v kcat >/dev/null 2>&1 || missing+=(kcat)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
[[ -x /usr/bin/chromium ]] || missing+=(chromium)
[[ -f /usr/share/fonts/truetype/wqy/wqy-microhei.ttc ]] || missing+=(fonts-wqy-microhei)
if ((${#missing[@]})); then
  log "installing ${missing[*]} from Debian packages"
  export DEBIAN_FRONTEND=noninteractive
  SUDO=""; [[ $(id -u) -eq 0 ]] || SUDO="sudo"
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
