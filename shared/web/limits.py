"""Limits of the HTTP contract that more than one side must agree on."""

from __future__ import annotations

MAX_BATCH_ITEMS = 10_000
"""Designations in one `POST /v1/designations/batch` (and so in one chunk of `jsb import`)."""
