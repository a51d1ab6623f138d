#!/usr/bin/env bash
# The four services under uvicorn on 127.0.0.1, each logging to .local/logs/ with
# a pid file in .local/run/. Idempotent.   services.sh start | stop | status
source "$(dirname "$0")/common.sh"
SERVICES=(initiator:8001 responder:8002 ledger:8003 notifier:8004)

port_of() {
  local name=$1 default=$2 var
  var="JSB_${name^^}_PORT"
  echo "${!var:-$default}"
}

start() {
  set -a; source "$LOCAL/stack.env"; set +a
  # The services keep only the tokens' hashes (stack-env.sh writes them).
  export JSB_TOKEN_HASHES_FILE="${JSB_TOKEN_HASHES_FILE:-$LOCAL/token-hashes.json}"
  cd "$ROOT"
  # A few measures are executed by hand, as in real departments (their tasks wait in
  # the manual inbox; `jsb demo` leaves some of them overdue).
  export JSB_RESPONDER_EXECUTION_MODES="${JSB_RESPONDER_EXECUTION_MODES:-$(cat deploy/responder-execution-modes.json)}"
  local entry name port pidf
  for entry in "${SERVICES[@]}"; do
    name=${entry%%:*}; port=$(port_of "$name" "${entry##*:}"); pidf="$RUN/$name.pid"
    if pid_alive "$pidf"; then log "$name already running (pid $(cat "$pidf"))"; continue; fi
    log "starting $name on 127.0.0.1:$port"
    # nohup execs uvicorn, so $! is the server's own pid (what `make down` kills).
    # uvloop and httptools: the event loop and HTTP parser in C (docs/benchmarks.md).
    nohup "$VENV/bin/uvicorn" "services.$name.app:app" --host 127.0.0.1 \
      --port "$port" --loop uvloop --http httptools --no-access-log \
      >>"$LOGS/$name.log" 2>&1 </dev/null &
    echo $! >"$pidf"
  done
  for entry in "${SERVICES[@]}"; do
    name=${entry%%:*}; port=$(port_of "$name" "${entry##*:}")
    wait_ready "$name" "$port"
  done
}

wait_ready() {
  local name=$1 port=$2
  for _ in $(seq 1 120); do
    if "$PY" - "$port" <<'PY' 2>/dev/null; then log "$name ready"; return 0; fi
import sys, urllib.request
urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/readyz", timeout=2)
PY
    pid_alive "$RUN/$name.pid" || { log "$name exited; see $LOGS/$name.log"; tail -20 "$LOGS/$name.log" >&2; return 1; }
    sleep 0.5
  done
  log "$name not ready after 60 s; see $LOGS/$name.log"; return 1
}

stop() {
  local entry name pidf
  for entry in "${SERVICES[@]}"; do
    name=${entry%%:*}; pidf="$RUN/$name.pid"
    if pid_alive "$pidf"; then
      log "stopping $name (pid $(cat "$pidf"))"
      kill "$(cat "$pidf")"
      for _ in $(seq 1 40); do pid_alive "$pidf" || break; sleep 0.25; done
      pid_alive "$pidf" && kill -9 "$(cat "$pidf")"
    fi
    rm -f "$pidf"
  done
}

status() {
  local entry name port pidf
  for entry in "${SERVICES[@]}"; do
    name=${entry%%:*}; port=$(port_of "$name" "${entry##*:}"); pidf="$RUN/$name.pid"
    if pid_alive "$pidf"; then printf '%-9s running  pid %s  http://127.0.0.1:%s\n' "$name" "$(cat "$pidf")" "$port"
    else printf '%-9s stopped\n' "$name"; fi
  done
}

"${1:-start}"
