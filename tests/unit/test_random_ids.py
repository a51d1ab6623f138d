"""Random ids (shared/adapters/random_ids.py, on `uuid-utils`): the forms of
`uuid4().hex` and `str(uuid4())`, time-ordered version 7 UUIDs; never the same id
twice — across threads, and across a fork (uuid-utils issue #42 reported a forked
child repeating its parent's ids)."""

from __future__ import annotations

import os
import threading
import time
import uuid

from shared.adapters import random_ids


def _ids() -> list[str]:
    return [
        random_ids.hex32(),
        random_ids.uuid4_str().replace("-", ""),
        random_ids.uuid7().hex,
        random_ids.uuid7_str().replace("-", ""),
    ]


def test_the_ids_have_uuid4s_forms() -> None:
    for _ in range(600):
        text = random_ids.uuid4_str()
        assert str(uuid.UUID(text)) == text
        assert uuid.UUID(text).version == 4
        assert uuid.UUID(text).variant == uuid.RFC_4122
        digits = random_ids.hex32()
        assert len(digits) == 32
        assert uuid.UUID(digits).version == 4
        assert digits == digits.lower()


def test_no_id_is_made_twice_across_threads() -> None:
    seen: list[list[str]] = []

    def take() -> None:
        seen.append([i for _ in range(2000) for i in _ids()])

    threads = [threading.Thread(target=take) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    every = [i for mine in seen for i in mine]
    assert len(every) == 32_000
    assert len(set(every)) == len(every)


def test_a_forked_child_never_repeats_its_parents_next_ids() -> None:
    _ids()  # the generators are seeded before the fork: the child inherits their state
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: its next ids, to the parent
        os.close(read)
        os.write(write, " ".join(i for _ in range(8) for i in _ids()).encode())
        os._exit(0)
    os.close(write)
    child = b""
    while chunk := os.read(read, 1024):
        child += chunk
    os.close(read)
    os.waitpid(pid, 0)
    childs = child.decode().split()
    parents = [i for _ in range(8) for i in _ids()]
    assert len(childs) == len(parents) == 32
    assert set(childs).isdisjoint(parents)


def test_version_7_ids_carry_the_time_and_sort_by_it() -> None:
    before = time.time_ns() // 1_000_000
    made = random_ids.uuid7()
    after = time.time_ns() // 1_000_000
    assert isinstance(made, uuid.UUID)
    assert made.version == 7
    assert made.variant == uuid.RFC_4122
    assert before <= made.int >> 80 <= after  # the Unix time in milliseconds
    later = []
    for _ in range(3):
        time.sleep(0.002)
        later.append(random_ids.uuid7())
    assert [made, *later] == sorted([made, *later])  # a later millisecond sorts after
    assert str(made) < str(later[0])  # as text too (Postgres orders uuid by its bytes)
    assert len({random_ids.uuid7() for _ in range(2000)}) == 2000


def test_version_7_text_is_a_version_7_uuids_text() -> None:
    before = time.time_ns() // 1_000_000
    text = random_ids.uuid7_str()
    after = time.time_ns() // 1_000_000
    made = uuid.UUID(text)
    assert str(made) == text
    assert (made.version, made.variant) == (7, uuid.RFC_4122)
    assert before <= made.int >> 80 <= after
    time.sleep(0.002)
    assert text < random_ids.uuid7_str()
