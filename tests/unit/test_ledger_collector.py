"""The ledger's process runs the collector's young generation at its own threshold
(ServiceRuntime.open, shared/adapters/collector.py; settings.py `gc_threshold` says
why 100,000): a projection chunk's transients are not caught alive by young
collections, which would move them to the older generations to be walked again."""

from __future__ import annotations

import gc

from services.ledger.projector import REFRESH_CHUNK
from services.ledger.read_models.rows import SubjectProjection, project_state
from services.ledger.replay import fold_recorded, recorded_events
from services.ledger.settings import LedgerSettings
from shared.adapters.collector import young_threshold
from tests.support.ledger_events import stored
from tests.support.ledger_workload import court_bulk


def test_the_ledger_collects_its_young_objects_less_often_than_python() -> None:
    assert LedgerSettings().gc_threshold == 100_000 > gc.get_threshold()[0]


def test_a_chunk_of_court_refreshes_does_not_trigger_the_collector_more_than_once() -> None:
    """A chunk of court debtors projected and held together (as a round holds its
    chunk until written): at the ledger's threshold at most one young collection
    during it (10,000: two)."""
    listed = court_bulk(REFRESH_CHUNK, chunk=REFRESH_CHUNK)
    streams: dict[str, list[object]] = {}
    for envelope in listed.envelopes:
        streams.setdefault(envelope.subject, []).append(envelope)
    folded = []
    for envelopes in streams.values():
        events = stored(envelopes)  # type: ignore[arg-type]
        state = fold_recorded(recorded_events(events), events[0].stream)
        folded.append((events[0].stream, state, events[-1], max(e.effective_at for e in events)))
    collections: list[int] = []

    def count(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            collections.append(info["generation"])

    gc.collect()
    held: list[SubjectProjection] = []
    gc.callbacks.append(count)
    try:
        with young_threshold(LedgerSettings().gc_threshold):
            held.extend(project_state(*f) for f in folded)
    finally:
        gc.callbacks.remove(count)
    assert len(held) == REFRESH_CHUNK
    assert len(collections) <= 1, collections
