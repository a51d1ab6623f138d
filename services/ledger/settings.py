from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from shared.adapters.settings import ServiceSettings


class LedgerSettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="JSB_LEDGER_", populate_by_name=True, extra="ignore"
    )

    db_schema: str = "ledger"
    group_id: str = "jsb.ledger"
    """Each ingest lane joins `<group_id>.<lane>` (Kafka-side lag only: the offsets
    that count are stored in Postgres)."""
    port: int = 8003
    batch_size: int = 2000
    """Records per ingest transaction (and outbox rows per relay round). Each subject a
    batch touches is folded, rendered and written once per batch, so a bigger batch
    costs less per event when a subject's events are spread over many records (a
    court list's 49 feedback events per debtor): measured in docs/ledger.md."""
    fold_cache_subjects: int = 500
    """Subjects whose folded state (and last written rows) are kept in memory between
    batches (services/ledger/fold_cache.py): ~170 KB each for a court debtor with 49
    tasks, measured (ingest's peak RSS 200 MB with 204 entries, 488 MB with 2,000:
    tests/bench/test_ledger_scale_bench.py), so ~85 MB at most over a ~165 MB process,
    which keeps the ledger under 300 MB whatever the number of subjects. A court list's
    feedback comes within the next chunk of designations (a few hundred subjects), so
    500 still hits. 0 turns the cache off."""
    gc_threshold: int = 10_000
    """Allocations between two young-generation garbage collections in the ledger's
    process (Python's default: 700); 0 keeps Python's default. See bootstrap.py."""
    snapshot_every: int = 1000
    """A subject's fold is kept every this many events, for status reads of long
    streams (services/ledger/snapshots.py); 0 turns snapshots off."""
    snapshot_capacity: int = 64
    """Snapshots kept in memory in all (least recently used out)."""
