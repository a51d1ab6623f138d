"""Status messages as the ledger publishes them on jsb.status.v1, for the notifier's
tests (unit, on the in-memory ports; integration, on Postgres)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from aiokafka import ConsumerRecord

from shared.domain.catalogue.index import default_index
from shared.domain.envelope import Envelope
from shared.domain.fold import status
from shared.domain.status_view import StatusChanged
from tests.unit.domain_fixtures import Subject, at, issue


def designation_id_of(subject: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"urn:test:notifier:{subject}")


def status_doc(subject: str, state: str = "in_force") -> dict[str, Any]:
    """A schema-valid status message (the ingest dead-letters any other) of one tax
    designation whose one task is the tax bureau's restrict_invoices, pending."""
    listed = Subject()
    command = issue(
        listed.subject_id,
        list_type="tax.major-violation",
        level=None,
        department="tax",
        designation_id=designation_id_of(subject),
    )
    listed.run(command, default_index())
    doc: dict[str, Any] = StatusChanged(
        **dict(status(listed.events, at(1))), caused_by=listed.events[0].envelope.id
    ).model_dump(mode="json")
    [designation] = doc["designations"]
    designation["state"] = state
    designation["tasks"] = [
        t
        for t in designation["tasks"]
        if (t["measure"], t["department"]) == ("tax.restrict_invoices", "tax")
    ]
    assert [t["state"] for t in designation["tasks"]] == ["pending"]
    doc["subject_id"] = subject
    return dict(StatusChanged.model_validate(doc).model_dump(mode="json"))


def changed(subject: str, state: str = "in_force", doc: dict[str, Any] | None = None) -> Envelope:
    return Envelope(
        type="jsb.status.changed",
        source="/jsb/ledger",
        subject=subject,
        time=datetime.now(UTC),
        data=doc if doc is not None else status_doc(subject, state),
    )


def status_record(
    envelope: Envelope | None, offset: int, raw: bytes | None = None
) -> ConsumerRecord:
    value = raw if raw is not None else envelope.to_json_bytes()  # type: ignore[union-attr]
    return ConsumerRecord("jsb.status.v1", 0, offset, 0, 0, b"k", value, None, 1, len(value), ())
