"""Random ids from the buffered CSPRNG (shared/adapters/random_ids.py): the forms of
`uuid.uuid4()`, `str(uuid4())` and `uuid4().hex`, and time-ordered version 7 UUIDs;
never the same bytes twice — across threads sharing the buffer, and across a fork (the
child drops its copy)."""

from __future__ import annotations

import os
import threading
import time
import uuid

from shared.adapters import random_ids


def test_the_ids_have_uuid4s_forms() -> None:
    for _ in range(600):  # past a buffer's 256 ids
        made = random_ids.uuid4()
        assert isinstance(made, uuid.UUID)
        assert made.version == 4
        assert made.variant == uuid.RFC_4122
        text = random_ids.uuid4_str()
        assert str(uuid.UUID(text)) == text
        assert uuid.UUID(text).version == 4
        assert uuid.UUID(text).variant == uuid.RFC_4122
        digits = random_ids.hex32()
        assert len(digits) == 32
        assert int(digits, 16) >= 0
        assert digits == digits.lower()


def test_no_bytes_are_handed_out_twice_across_threads() -> None:
    seen: list[list[bytes]] = []

    def take() -> None:
        mine = [random_ids.random_bytes16() for _ in range(5000)]
        seen.append(mine)

    threads = [threading.Thread(target=take) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    every = [b for mine in seen for b in mine]
    assert len(every) == 20_000
    assert len(set(every)) == len(every)


def test_a_forked_child_never_repeats_its_parents_next_ids() -> None:
    random_ids.random_bytes16()  # the buffer is filled: the child inherits a copy of it
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its next ids, to the parent
        os.close(read)
        os.write(write, b"".join(random_ids.random_bytes16() for _ in range(8)))
        os._exit(0)
    os.close(write)
    child = b""
    while chunk := os.read(read, 1024):
        child += chunk
    os.close(read)
    os.waitpid(pid, 0)
    parents = b"".join(random_ids.random_bytes16() for _ in range(8))
    assert len(child) == len(parents) == 128
    assert {child[i : i + 16] for i in range(0, 128, 16)}.isdisjoint(
        {parents[i : i + 16] for i in range(0, 128, 16)}
    )


def test_version_7_ids_carry_the_time_and_sort_by_it() -> None:
    before = time.time_ns() // 1_000_000
    made = random_ids.uuid7()
    after = time.time_ns() // 1_000_000
    assert made.version == 7
    assert made.variant == uuid.RFC_4122
    assert before <= made.int >> 80 <= after  # the Unix time in milliseconds
    later = []
    for _ in range(3):
        time.sleep(0.002)
        later.append(random_ids.uuid7())
    assert [made, *later] == sorted([made, *later])  # a later millisecond sorts after
    assert str(made) < str(later[0])  # as text too (Postgres orders uuid by its bytes)
    assert len({random_ids.uuid7() for _ in range(2000)}) == 2000  # random within a ms
