#!/usr/bin/env bash
# Creates .venv/ with the locked dependencies (uv.lock). Idempotent: uv only
# changes what differs from the lock. uv itself is installed from PyPI into
# .local/bootstrap, so the machine needs nothing but python3.
source "$(dirname "$0")/common.sh"
UV="$LOCAL/bootstrap/bin/uv"
if [[ ! -x "$UV" ]]; then
  log "installing uv into $LOCAL/bootstrap"
  python3 -m venv "$LOCAL/bootstrap"
  "$LOCAL/bootstrap/bin/pip" install -q --disable-pip-version-check "uv==0.13.9"
fi
cd "$ROOT"
# --compile-bytecode: the dependencies' bytecode is written once here, so no process
# compiles them again (the Makefile explains why; idempotent, ~0.4 s when unchanged).
"$UV" sync --frozen --quiet --compile-bytecode
log "python environment ready ($VENV)"
