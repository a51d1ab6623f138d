"""Random ids — version 4 and version 7 UUIDs, 32-digit hex strings — cut from a
buffer of `os.urandom` bytes.

Why: a check makes two to three of them (its id, its interceptions' event ids, the
request's correlation id). `uuid.uuid4()` is a `getrandom` system call each, then a
`UUID` built through its validating constructor, then `str()`: under check load the
system calls alone were ~5 % of the responder's event loop (py-spy `--native`,
docs/benchmarks.md). Here one call fills a buffer for 256 ids; the bytes are the
kernel's CSPRNG's, the same as `os.urandom`'s and so `uuid4`'s, each handed out once
(under a lock: threads share the buffer). A forked child drops its copy of the
buffer, so parent and child never hand out the same bytes.
"""

from __future__ import annotations

import os
import threading
import time
from uuid import UUID

_CHUNK = 4096
_VERSION_MASK = ~((0xF000 << 64) | (0xC000 << 48))
_VERSION_4 = (0x4000 << 64) | (0x8000 << 48)
"""Version 4, RFC 4122 variant: the bits `uuid.UUID(..., version=4)` sets."""

_lock = threading.Lock()
_buffer = b""
_at = 0


def random_bytes16() -> bytes:
    """16 bytes from the kernel's CSPRNG, never handed out before in this process."""
    global _buffer, _at
    with _lock:
        at = _at
        if at + 16 > len(_buffer):
            _buffer, at = os.urandom(_CHUNK), 0
        _at = at + 16
        return _buffer[at : at + 16]


def _drop_buffer() -> None:
    global _buffer, _at, _lock
    _lock = threading.Lock()
    _buffer, _at = b"", 0


os.register_at_fork(after_in_child=_drop_buffer)


def hex32() -> str:
    """`uuid4().hex`'s form: 32 lowercase hex digits (128 random bits)."""
    return random_bytes16().hex()


def _v4_int() -> int:
    return (int.from_bytes(random_bytes16()) & _VERSION_MASK) | _VERSION_4


def uuid4() -> UUID:
    """A random (version 4) UUID, as `uuid.uuid4()`."""
    return UUID(int=_v4_int())


def uuid7() -> UUID:
    """A time-ordered UUID (RFC 9562 version 7: the Unix time in milliseconds, then 74
    random bits), as Python 3.14's `uuid.uuid7()` lays it out (without its counter: ids
    made in the same millisecond are in random order).

    Why, for a row's primary key: a random (version 4) key lands on a random leaf of the
    B-tree, so after each checkpoint nearly every insert's page is written whole into the
    WAL once more (full-page writes), and the bigger the index, the longer that lasts;
    time-ordered keys all land on the index's last page. Measured (checks table of
    300,000 rows, just after a CHECKPOINT, 3,000 groups of 7 rows, two rounds): full-page
    images 0.49-0.82 -> 0.0-0.46 a group, Postgres's CPU 0.223-0.233 -> 0.170-0.193 ms a
    group, a durable group's statement 1.10-1.15 -> 0.42-0.70 ms (docs/benchmarks.md)."""
    rand = int.from_bytes(random_bytes16())
    ms = time.time_ns() // 1_000_000
    return UUID(
        int=(ms & 0xFFFF_FFFF_FFFF) << 80
        | 0x7 << 76
        | (rand >> 64 & 0xFFF) << 64
        | 0x2 << 62
        | rand & 0x3FFF_FFFF_FFFF_FFFF
    )


def uuid4_str() -> str:
    """`str(uuid.uuid4())`'s form, without the UUID object."""
    h = f"{_v4_int():032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
