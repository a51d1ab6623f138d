"""Random ids on the check path — version 4 and version 7 UUIDs, 32-digit hex strings —
from `uuid-utils` (Rust's `uuid` crate: random bits from a CSPRNG seeded by the OS).

Why not `uuid.uuid4()`: a check makes two to three ids (its id, its interceptions'
event ids, the request's correlation id), and each `uuid4()` is a `getrandom` system
call, then a `UUID` built through its validating constructor, then `str()` (~4.3 µs;
under check load the system calls alone were ~5 % of the responder's event loop, py-spy
`--native`, docs/benchmarks.md). `uuid_utils.uuid4()` with `str()` takes ~0.2 µs, its
`compat.uuid7()` (a stdlib `UUID`) ~1 µs. Python 3.11 has no `uuid7`. A forked child
does not repeat its parent's ids (tests/unit/test_random_ids.py; the library's issue
#42 reported it did in 2024, so the test keeps watching).
"""

from __future__ import annotations

from uuid import UUID

import uuid_utils
from uuid_utils import compat


def hex32() -> str:
    """`uuid4().hex`'s form: 32 lowercase hex digits."""
    return uuid_utils.uuid4().hex


def uuid4_str() -> str:
    """`str(uuid.uuid4())`'s form."""
    return str(uuid_utils.uuid4())


def uuid7() -> UUID:
    """A time-ordered UUID (RFC 9562 version 7: the Unix time in milliseconds, then
    random bits), a stdlib `UUID`.

    Why, for a row's primary key: a random (version 4) key lands on a random leaf of the
    B-tree, so after each checkpoint nearly every insert's page is written whole into the
    WAL once more (full-page writes), and the bigger the index, the longer that lasts;
    time-ordered keys all land on the index's last page. Measured (checks table of
    300,000 rows, just after a CHECKPOINT, 3,000 groups of 7 rows, two rounds): full-page
    images 0.49-0.82 -> 0.0-0.46 a group, Postgres's CPU 0.223-0.233 -> 0.170-0.193 ms a
    group, a durable group's statement 1.10-1.15 -> 0.42-0.70 ms (docs/benchmarks.md)."""
    return compat.uuid7()


def uuid7_str() -> str:
    """`str(uuid7())`'s form without the stdlib `UUID` (0.18 µs against 1.25 µs for
    `str(uuid7())`: its validating constructor, then its `__str__`)."""
    return str(uuid_utils.uuid7())
