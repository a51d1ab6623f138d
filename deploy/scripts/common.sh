# Shared settings for the local-stack scripts. Sourced, not run.
# Every path is under the checkout's .local/ so that nothing touches the system.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
LOCAL="${JSB_LOCAL_DIR:-$ROOT/.local}"
RUN="$LOCAL/run"
LOGS="$LOCAL/logs"
VENV="$ROOT/.venv"
PY="$VENV/bin/python"
mkdir -p "$RUN" "$LOGS"

PG_PORT="${JSB_PG_PORT:-55432}"
KAFKA_PORT="${JSB_KAFKA_PORT:-9092}"
KAFKA_CONTROLLER_PORT="${JSB_KAFKA_CONTROLLER_PORT:-9093}"
TOPIC_PARTITIONS="${JSB_TOPIC_PARTITIONS:-6}"

log() { printf '[jsb] %s\n' "$*" >&2; }

# pid_alive FILE: the pid in FILE names a live process.
pid_alive() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }
