"""The producers' partitioner puts every record where aiokafka's default (Kafka's Java
partitioner) puts it: any key, any partition lists, a `None` key included."""

from __future__ import annotations

import random

from aiokafka.partitioner import DefaultPartitioner
from aiokafka.partitioner import murmur2 as aiokafka_murmur2
from hypothesis import example, given, settings
from hypothesis import strategies as st

from shared.adapters import partitioner
from shared.adapters.kafka_clients import make_producer
from shared.adapters.partitioner import KeyPartitioner, murmur2, positive_hash

DEFAULT = DefaultPartitioner()
partitions = st.lists(st.integers(0, 10_000), min_size=1, max_size=64, unique=True).map(sorted)


def _signed(h: int) -> int:
    return h - 2**32 if h >= 2**31 else h


def test_murmur2_gives_the_java_clients_values() -> None:
    # org.apache.kafka.common.utils.UtilsTest.testMurmur2 (signed ints in Java)
    cases = {
        b"21": -973932308,
        b"foobar": -790332482,
        b"a-little-bit-long-string": -985981536,
        b"a-little-bit-longer-string": -1486304829,
        b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8": -58897971,
        b"abc": 479470107,
    }
    for key, java in cases.items():
        assert _signed(murmur2(key)) == java


@settings(max_examples=3000)
@given(st.binary(max_size=200))
@example(b"")
@example(b"\xff\xff\xff\xff\xff\xff\xff")
def test_murmur2_equals_aiokafkas(key: bytes) -> None:
    assert murmur2(key) == aiokafka_murmur2(key)
    assert murmur2(bytearray(key)) == aiokafka_murmur2(key)


@settings(max_examples=3000)
@given(st.one_of(st.binary(max_size=80), st.text(max_size=40).map(str.encode)), partitions)
def test_a_key_goes_to_the_default_partitioners_partition(key: bytes, all_: list[int]) -> None:
    ours = KeyPartitioner()
    available = all_[: len(all_) // 2]
    assert ours(key, all_, available) == DEFAULT(key, all_, available)
    assert ours(key, all_, available) == DEFAULT(key, all_, available)  # from the memo
    assert ours(bytearray(key), all_, []) == DEFAULT(bytearray(key), all_, [])


@given(partitions, st.data(), st.integers(0, 2**32))
def test_a_none_key_goes_where_the_default_sends_it(
    all_: list[int], data: st.DataObject, seed: int
) -> None:
    available = data.draw(st.lists(st.sampled_from(all_), unique=True))
    random.seed(seed)
    default = DEFAULT(None, all_, available)
    random.seed(seed)
    assert KeyPartitioner()(None, all_, available) == default
    assert default in (available or all_)


def test_the_memo_is_bounded() -> None:
    positive_hash.cache_clear()
    for i in range(partitioner.KEYS + 500):
        positive_hash(str(i).encode())
    info = positive_hash.cache_info()
    assert info.currsize == partitioner.KEYS
    assert info.misses == partitioner.KEYS + 500


async def test_the_services_producer_uses_it() -> None:
    producer = make_producer("127.0.0.1:1", "partitioner-test")  # not started: no broker asked
    assert isinstance(producer._partitioner, KeyPartitioner)
