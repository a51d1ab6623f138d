#!/usr/bin/env bash
# PostgreSQL for the local stack: the Debian server package (installed if
# missing), a cluster of our own under .local/pg listening on 127.0.0.1 only,
# the roles and database, then the Alembic migrations. Idempotent.
#   postgres.sh start | stop | status
source "$(dirname "$0")/common.sh"
PGDATA="$LOCAL/pg/data"
PGSOCK="$LOCAL/pg/run"
PGLOG="$LOGS/postgres.log"

find_bindir() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    [[ -x "$d/pg_ctl" ]] && { echo "$d"; return 0; }
  done
  return 1
}

install_server() {
  log "installing PostgreSQL server from Debian packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq postgresql postgresql-contrib >/dev/null
}

# The server refuses to run as root: run its tools as the postgres user.
as_pg() {
  if [[ $(id -u) -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start() {
  BIN="$(find_bindir)" || { install_server; BIN="$(find_bindir)"; }
  mkdir -p "$PGDATA" "$PGSOCK"
  if [[ $(id -u) -eq 0 ]]; then
    chown -R postgres:postgres "$LOCAL/pg"
    touch "$PGLOG"; chown postgres "$PGLOG"
  fi
  if [[ ! -f "$PGDATA/PG_VERSION" ]]; then
    log "creating cluster in $PGDATA"
    as_pg "$BIN/initdb" -D "$PGDATA" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
      -E UTF8 --locale=C.UTF-8 >/dev/null
    cat >>"$PGDATA/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$PGSOCK'
max_connections = 200
shared_buffers = 256MB
fsync = on
timezone = 'UTC'
CONF
  fi
  if ! as_pg "$BIN/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; then
    log "starting PostgreSQL on 127.0.0.1:$PG_PORT"
    as_pg "$BIN/pg_ctl" -D "$PGDATA" -l "$PGLOG" -w -t 60 start >/dev/null
  fi
  cp "$PGDATA/postmaster.pid" "$RUN/postgres.pid.full" 2>/dev/null || true
  head -1 "$PGDATA/postmaster.pid" >"$RUN/postgres.pid"
  provision
}

psql_su() { as_pg psql -h "$PGSOCK" -p "$PG_PORT" -U postgres -v ON_ERROR_STOP=1 -qAt "$@"; }

# Roles: jsb_admin owns the schemas and runs migrations (and the tests that need
# superuser rights); jsb is the services' role, granted only what they need
# (no UPDATE or DELETE on the ledger's events: see the migrations).
provision() {
  psql_su -d postgres <<'SQL'
SELECT 'CREATE ROLE jsb_admin LOGIN SUPERUSER PASSWORD ''jsb_admin'''
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'jsb_admin')\gexec
SELECT 'CREATE ROLE jsb LOGIN PASSWORD ''jsb'''
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'jsb')\gexec
SELECT 'CREATE DATABASE jsb OWNER jsb_admin'
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = 'jsb')\gexec
SQL
  psql_su -d jsb -c "GRANT CONNECT, TEMPORARY ON DATABASE jsb TO jsb; GRANT CREATE ON DATABASE jsb TO jsb;"
  log "PostgreSQL ready (database jsb on 127.0.0.1:$PG_PORT)"
}

stop() {
  BIN="$(find_bindir)" || return 0
  if [[ -f "$PGDATA/PG_VERSION" ]] && as_pg "$BIN/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; then
    log "stopping PostgreSQL"
    as_pg "$BIN/pg_ctl" -D "$PGDATA" -m fast -w stop >/dev/null
  fi
  rm -f "$RUN/postgres.pid" "$RUN/postgres.pid.full"
}

status() {
  if pid_alive "$RUN/postgres.pid"; then echo "postgres  running  pid $(cat "$RUN/postgres.pid")  127.0.0.1:$PG_PORT"
  else echo "postgres  stopped"; fi
}

"${1:-start}"
