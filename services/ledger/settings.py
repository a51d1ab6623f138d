from __future__ import annotations

from prometheus_client import CollectorRegistry
from pydantic_settings import SettingsConfigDict

from services.ledger.fold_cache import FoldCache
from services.ledger.pending import Pending
from services.ledger.ports import IngestTransaction
from services.ledger.projector import Projector
from services.ledger.stored_snapshots import StoredSnapshots
from shared.adapters.settings import ServiceSettings
from shared.ports import Transactions


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
    relay_batch_size: int = 200
    """Outbox rows per relay round (shared.adapters.settings). Why not `batch_size`: a
    court debtor's status message is ~25 KB, and a round holds its rows and the
    producer's copies until they are sent — up to ~100 MB for 2,000 rows. When the
    relay falls behind (a loaded machine) every round is full, and the process keeps
    the high-water mark: in the soak the ledger's C heap in use grew with the relay's
    backlog (docs/reliability.md, "The ledger's RSS: what grows")."""
    feedback_batch_size: int = 8000
    """Records per ingest transaction of the feedback lane (bootstrap.py); 0: as
    `batch_size`. Bigger than the designation lane's because a court list's feedback
    comes as floods of ~49 events per debtor spread over departments: the more of a
    debtor's answers one batch holds, the fewer times the debtor is refreshed (the
    unit of ingest's cost). A batch is only as big as what the consumer has fetched,
    so the batches grow when the lane is behind and stay small when it keeps up; the
    price is that a designation waits for at most one such batch at the append turn.
    Measured in docs/benchmarks.md (Ledger)."""
    projection_batch: int = 200
    """Subjects projected per projection round, one transaction (projector.py), oldest
    queued first."""
    projection_delay_s: float = 0.5
    """How long a queued subject must be quiet (queued by no batch) before it is
    projected: the answers that come meanwhile are projected with it, in one refresh
    (projector.py)."""
    projection_max_delay_s: float | None = 4.0
    """The bound: a subject first queued this long ago is projected even if batches
    keep queuing it. The projections and the status stream lag by the delay to the
    bound, plus the queue. None (or the delay itself): no debounce, a subject is
    projected `projection_delay_s` after it was first queued. Why 4 s and not 2: at
    full speed a court debtor's answers trickle in over the whole run, so the bound,
    not the quiet, ends most of its refreshes (docs/benchmarks.md, Ledger, "Fifth
    round": 2.0–2.1 refreshes per designation against 2.4–3.0 with 2 s)."""
    projection_poll_s: float = 1.0
    """The projector also looks for queued subjects this often (queued by another
    instance, or before a restart)."""
    projection_pending_events: int = 10_000
    """Appended events kept in memory for the projector (pending.py), at most: ~2 KB
    each with their payloads, so ~20 MB when the projector lags far behind; past it the
    oldest subjects are read back from the store."""
    fold_cache_subjects: int = 500
    """Subjects whose folded state (and last written rows) are kept in memory between
    batches (services/ledger/fold_cache.py): ~170 KB each for a court debtor with 49
    tasks, measured (ingest's peak RSS 200 MB with 204 entries, 488 MB with 2,000:
    tests/bench/test_ledger_scale_bench.py), so ~85 MB at most over a ~165 MB process,
    which keeps the ledger under 300 MB whatever the number of subjects. A court list's
    feedback comes within the next chunk of designations (a few hundred subjects), so
    500 still hits. 0 turns the cache off."""
    fold_cache_events: int = 2_000
    """Events folded into the fold cache's states, at most (~2.3 KB each with their row
    snapshots, so ~4.5 MB): a bound in bytes, whatever the length of the subjects'
    histories (fold_cache.py). Why not more: the cache fills at the pace the load
    brings feedback, which on the whole stack took ~4 minutes to ~6,000 events with
    the 60 s age bound alone, and the process kept every byte of it; at 4,000 events it was
    still filling 40 s after the warm-up (the soak, docs/reliability.md "The ledger's
    RSS: what grows")."""
    fold_cache_seconds: float = 60.0
    """An entry of the fold cache is dropped this long after it was last put
    (fold_cache.py: why 60 s, measured against the soak)."""
    heap_trim_bytes: int = 4 * 2**20
    """When more than this is free inside the C heap, it is given back to the system
    (glibc's malloc_trim, checked every 10 s: services/ledger/heap_trim.py says why);
    0 turns it off."""
    gc_threshold: int = 10_000
    """Allocations between two young-generation garbage collections in the ledger's
    process (Python's default: 700); 0 keeps it: ServiceRuntime.open applies it.
    Why not 100,000 (tried in session 10): in the pipeline the collector's CPU fell
    from 2.7-3.7 s to 0.35 s per 1,000-debtor run, but the soak's ledger RSS grew
    +9.6 % over its 10 minutes (the limit is 10 %; +0.95 % at 10,000), still rising
    at the end: no full collection ran, so cyclic garbage stayed (docs/benchmarks.md,
    Ledger, "Eighth round")."""
    snapshot_every: int = 1000
    """A subject's fold is kept every this many events, for status reads and refreshes
    of long streams: in memory (services/ledger/snapshots.py) and stored by the
    projector (services/ledger/stored_snapshots.py, why 1,000 there); 0 turns
    snapshots off."""
    snapshot_capacity: int = 64
    """Snapshots kept in memory in all (least recently used out)."""

    def lane_batch_size(self, lane: str) -> int:
        """Records per ingest transaction of an ingest lane (bootstrap.LANES)."""
        if lane == "feedback" and self.feedback_batch_size > 0:
            return self.feedback_batch_size
        return self.batch_size

    def projector(
        self,
        ledger: Transactions[IngestTransaction],
        registry: CollectorRegistry | None = None,
        stored: StoredSnapshots | None = None,
    ) -> Projector:
        """The projector these settings describe, on `ledger` (storing snapshots in
        `stored`, if given)."""
        return Projector(
            ledger,
            self.topic_suffix,
            registry,
            self.fold_cache(),
            batch=self.projection_batch,
            delay_s=self.projection_delay_s,
            poll_s=self.projection_poll_s,
            pending=Pending(self.projection_pending_events),
            max_delay_s=self.projection_max_delay_s,
            stored=stored,
        )

    def fold_cache(self) -> FoldCache:
        """The fold cache these settings describe."""
        return FoldCache(
            self.fold_cache_subjects,
            max_age_s=self.fold_cache_seconds,
            max_events=self.fold_cache_events,
        )
