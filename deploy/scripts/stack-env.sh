#!/usr/bin/env bash
# Writes .local/stack.env (what clients and tests need to reach the stack) and
# .local/tokens.json (local bearer tokens, plaintext for local clients and tests;
# existing tokens are kept) and .local/token-hashes.json (what the services read: the
# tokens' SHA-256 hashes, with expiry and revocation; services.sh points the services
# at it, stack.env does not, so the tests' own stacks keep their own token files).
source "$(dirname "$0")/common.sh"
url() { local var="JSB_${1^^}_PORT"; echo "http://127.0.0.1:${!var:-$2}"; }
cat >"$LOCAL/stack.env" <<ENV
INITIATOR_URL=$(url initiator 8001)
RESPONDER_URL=$(url responder 8002)
LEDGER_URL=$(url ledger 8003)
NOTIFIER_URL=$(url notifier 8004)
KAFKA_BOOTSTRAP_SERVERS=127.0.0.1:$KAFKA_PORT
DATABASE_URL=postgresql+asyncpg://jsb:jsb@127.0.0.1:$PG_PORT/jsb
DATABASE_ADMIN_URL=postgresql+asyncpg://jsb_admin:jsb_admin@127.0.0.1:$PG_PORT/jsb
JSB_TOKENS_FILE=$LOCAL/tokens.json
PGPASSFILE=$LOCAL/pgpass
ENV
# The code's default URLs carry no password; the local roles' ones are found here.
(umask 077; cat >"$LOCAL/pgpass" <<PGPASS
127.0.0.1:$PG_PORT:jsb:jsb:jsb
127.0.0.1:$PG_PORT:jsb:jsb_admin:jsb_admin
PGPASS
)
"$VENV/bin/jsb" stack tokens --out "$LOCAL/tokens.json" \
  --hashes-out "$LOCAL/token-hashes.json" >/dev/null
log "wrote $LOCAL/stack.env, $LOCAL/tokens.json and $LOCAL/token-hashes.json"
