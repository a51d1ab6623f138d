#!/usr/bin/env bash
# Command-line tools the tests use beside Python: kcat (a non-Python Kafka client).
source "$(dirname "$0")/common.sh"
if ! command -v kcat >/dev/null 2>&1; then
  log "installing kcat from Debian packages"
  export DEBIAN_FRONTEND=noninteractive
  SUDO=""; [[ $(id -u) -eq 0 ]] || SUDO="sudo"
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq kcat >/dev/null
fi
