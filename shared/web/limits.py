"""Limits of the HTTP contract that more than one side must agree on."""

from __future__ import annotations

MAX_BATCH_ITEMS = 10_000
"""Designations in one `POST /v1/designations/batch` (and so in one chunk of `jsb import`)."""

MAX_BODY_BYTES = 1 << 20
"""A request body anywhere (1 MiB) but the routes of `BODY_ALLOWANCES`: larger ones are
answered 413 before they are read (shared/web/body_guard.py)."""

MAX_BATCH_BODY_BYTES = 16 << 20
"""`POST /v1/designations/batch` (16 MiB): 10,000 realistic designations (half with a
related person) measured 5.8 MiB as ASCII-escaped JSON, 4.4 MiB as UTF-8."""

BODY_ALLOWANCES: dict[tuple[str, str], int] = {
    ("POST", "/v1/designations/batch"): MAX_BATCH_BODY_BYTES,
}
"""(method, path) → the body size a route allows instead of `MAX_BODY_BYTES`."""

MAX_JSON_DEPTH = 32
"""Nesting of objects and arrays in a JSON body; the deepest body of the API is 5."""

MAX_ROW_ID = 2**63 - 1
"""The largest id a PostgreSQL `bigint` holds: a larger one in a path or query is a 422,
not a database error (schemathesis found `POST /v1/deliveries/2^70/retry` a 500)."""
