"""The incentive cross-check as a guard of `handlers.execute`: it runs after `decide`
accepted the designation (so the domain's own refusals, its own 交叉比对 included,
come first and cost no call) and before anything is written."""

from __future__ import annotations

from collections.abc import Sequence

from services.initiator.handlers import Guard
from services.initiator.ledger_client import LedgerUnavailable, sanctioned_refusal, unavailable
from services.initiator.ports import LedgerStatus
from shared.domain.catalogue.index import CatalogueIndex
from shared.domain.decide_support import NewEvent, lookup
from shared.domain.fold_state import SubjectState
from shared.domain.vocabulary import Polarity


def is_incentive(catalogue: CatalogueIndex, list_type: str) -> bool:
    found = lookup(catalogue.list_type, list_type)
    return found is not None and found.polarity is Polarity.INCENTIVE


def incentive_guard(
    catalogue: CatalogueIndex, ledger: LedgerStatus, list_type: str, subject_id: str
) -> Guard | None:
    if not is_incentive(catalogue, list_type):
        return None

    async def guard(state: SubjectState, events: Sequence[NewEvent]) -> None:
        try:
            sanctioned = await ledger.sanctioned(subject_id)
        except LedgerUnavailable as exc:
            raise unavailable() from exc
        if sanctioned:
            raise sanctioned_refusal()

    return guard
