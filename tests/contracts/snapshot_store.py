"""The contract of the snapshot store (`SnapshotStore`, services/ledger/snapshot_store.py):
subclassed for the in-memory adapter (tests/unit/test_ledger_snapshot_store.py) and
Postgres (tests/integration/test_ledger_snapshot_store.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.ledger.snapshot_store import SnapshotStore, StoredSnapshot

T = datetime(2026, 3, 2, 2, tzinfo=UTC)


def snap(
    version: int, effective_h: int, recorded_h: int, codec: str = "c1", stream: str = "S"
) -> StoredSnapshot:
    return StoredSnapshot(
        stream,
        version,
        f"h{version}",
        T + timedelta(hours=effective_h),
        T + timedelta(hours=recorded_h),
        codec,
        f"state {version} {codec}".encode(),
    )


class SnapshotStoreContract:
    """Subclasses provide a fixture `store`: an empty SnapshotStore."""

    async def test_the_newest_of_the_stream_and_codec(self, store: SnapshotStore) -> None:
        assert await store.latest("S", "c1") is None
        await store.put([snap(10, 1, 1), snap(20, 2, 2), snap(30, 3, 3, codec="c0")])
        await store.put([snap(40, 4, 4, stream="other")])
        assert await store.latest("S", "c1") == snap(20, 2, 2)
        assert await store.latest("S", "c0") == snap(30, 3, 3, codec="c0")
        assert await store.latest("S", "c2") is None
        assert await store.latest("S", "c1", after_version=20) is None
        assert await store.latest("S", "c1", after_version=19) == snap(20, 2, 2)

    async def test_only_snapshots_whose_events_are_all_visible(self, store: SnapshotStore) -> None:
        # effective and recorded instants need not grow with the version
        await store.put([snap(10, 1, 5), snap(20, 4, 2), snap(30, 6, 6)])
        at = T + timedelta(hours=4)
        assert await store.latest("S", "c1", at, at) == snap(20, 4, 2)  # 10 recorded at 5
        assert await store.latest("S", "c1", at, T + timedelta(hours=1)) is None
        assert await store.latest("S", "c1", T + timedelta(hours=3), T + timedelta(hours=9)) == (
            snap(10, 1, 5)
        )
        exactly = await store.latest("S", "c1", T + timedelta(hours=6), T + timedelta(hours=6))
        assert exactly == snap(30, 6, 6)  # at the instants themselves: visible
        assert await store.latest("S", "c1", as_of=T) is None
        assert await store.latest("S", "c1", known_at=T + timedelta(hours=2)) == snap(20, 4, 2)

    async def test_having_names_the_streams_with_a_snapshot_of_the_codec(
        self, store: SnapshotStore
    ) -> None:
        assert await store.having([], "c1") == set()
        assert await store.having(["S", "other"], "c1") == set()
        await store.put([snap(10, 1, 1), snap(20, 2, 2), snap(30, 3, 3, codec="c0")])
        await store.put([snap(40, 4, 4, stream="other", codec="c0")])
        assert await store.having(["S", "other", "none"], "c1") == {"S"}
        assert await store.having(["S", "other"], "c0") == {"S", "other"}
        assert await store.having(["other"], "c1") == set()
        assert await store.having(["S"], "c2") == set()

    async def test_put_replaces_the_same_version(self, store: SnapshotStore) -> None:
        await store.put([snap(10, 1, 1)])
        newer = snap(10, 2, 2, codec="c2")
        await store.put([newer])
        assert await store.latest("S", "c1") is None
        assert await store.latest("S", "c2") == newer
        await store.put([])
