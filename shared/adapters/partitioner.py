"""Kafka's default partitioner, the same partition for every key, at less CPU per send.

Every producer of the backbone (each service's outbox relay) chooses a record's
partition the way Kafka's Java client does: `toPositive(murmur2(key)) % partitions`,
so that another department's Java producer puts a subject's records on the same
partition as ours, and a subject's events stay in order. aiokafka computes that
murmur2 in pure Python, byte by byte, for every record.

Why a memo: keys repeat. A key is a subject id; a designation's ~30 feedback events,
a subject's statuses, a subject checked again and again all carry the same one, and
the relay sends them within seconds of each other. Under check load the relay's
`send` was ~3.5 % of the responder's event loop, murmur2 a third of it (py-spy
`--native`, docs/benchmarks.md "Check API"). A key's hash is kept in a bounded LRU
(`KEYS` keys, ~1.5 MB at most); a key not in it is hashed by `murmur2` below, which
reads the key four bytes at a time with one `struct` call instead of indexing it.

PyPI has no well-kept C implementation of Kafka's murmur2 (seed 0x9747b28c): `mmh3` is
MurmurHash3; the MurmurHash2 bindings found (`mmh`, `mmhash2`, `murmur2` — the last
one the 64-bit variant) are unmaintained since 2016-2021.

`KeyPartitioner` returns exactly what aiokafka's `DefaultPartitioner` returns, for any
key and partition lists, including a `None` key (a random choice among the available
partitions, else among all, from the same `random` state): tested with hypothesis
against aiokafka's own (tests/unit/test_partitioner.py).
"""

from __future__ import annotations

import random
import struct
from functools import lru_cache

_SEED = 0x9747B28C
_M = 0x5BD1E995
_MASK = 0xFFFFFFFF

KEYS = 8192
"""Keys whose hash is kept (least recently used dropped first)."""


def murmur2(data: bytes) -> int:
    """Kafka's murmur2 of `data` as an unsigned 32-bit value (`Utils.murmur2` in the
    Java client, which returns it as a signed int; `& 0x7fffffff` makes both the same)."""
    length = len(data)
    h = _SEED ^ length
    words = length >> 2
    for k in struct.unpack_from(f"<{words}I", data):
        k = (k * _M) & _MASK
        k ^= k >> 24
        h = ((h * _M) & _MASK) ^ ((k * _M) & _MASK)
    tail = length & 3
    if tail:
        rest = length & ~3
        if tail == 3:
            h ^= data[rest + 2] << 16
        if tail >= 2:
            h ^= data[rest + 1] << 8
        h = ((h ^ data[rest]) * _M) & _MASK
    h ^= h >> 13
    h = (h * _M) & _MASK
    return h ^ (h >> 15)


@lru_cache(maxsize=KEYS)
def positive_hash(key: bytes) -> int:
    """`toPositive(murmur2(key))`, remembered for the `KEYS` most recent keys."""
    return murmur2(key) & 0x7FFFFFFF


class KeyPartitioner:
    """aiokafka's `partitioner`: `(key_bytes, all_partitions, available) -> partition`."""

    def __call__(self, key: bytes | None, all_partitions: list[int], available: list[int]) -> int:
        if key is None:  # as aiokafka's default: any available partition, else any
            return random.choice(available or all_partitions)  # noqa: S311 (not a secret)
        if type(key) is not bytes:  # a bytearray or memoryview is not hashable: no memo
            return all_partitions[(murmur2(key) & 0x7FFFFFFF) % len(all_partitions)]
        return all_partitions[positive_hash(key) % len(all_partitions)]
