#!/usr/bin/env bash
# Command-line tools the tests and benchmarks use beside Python, from Debian packages:
# kcat (a non-Python Kafka client), wrk (the HTTP load generator of `make bench`).
source "$(dirname "$0")/common.sh"
missing=()
command -v kcat >/dev/null 2>&1 || missing+=(kcat)
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
if ((${#missing[@]})); then
  log "installing ${missing[*]} from Debian packages"
  export DEBIAN_FRONTEND=noninteractive
  SUDO=""; [[ $(id -u) -eq 0 ]] || SUDO="sudo"
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi
