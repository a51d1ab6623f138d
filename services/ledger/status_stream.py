"""The status stream: after a change the subject's new status goes to jsb.status.v1,
keyed by subject id, through the ledger's outbox in the ingest transaction (the relay
publishes it with the idempotent producer).

One message per subject per ingested batch, caused by the subject's last event in
it: the topic is compacted to the latest status per subject, so intermediate states
within one batch would be compacted away anyway. The message id is derived from the
causing event's id: a status re-published after a crash carries the same id, and
consumers drop it as a duplicate.

The message's bytes are the envelope's own JSON (`Envelope.to_json_bytes`) with the
status document spliced in as already serialised for its row (`status_json`): the
~25 KB document of a court debtor is serialised once per refresh, not twice. `data`
is the envelope's last field, and `status_envelope` makes it the document plus
`caused_by`, so the splice is byte for byte the dump
(tests/unit/test_ledger_status_bytes.py).
"""

from __future__ import annotations

from uuid import UUID, uuid5

import pydantic_core

from services.ledger.read_models.rows import SubjectProjection
from services.ledger.replay import to_recorded
from shared.adapters.topics import STATUS
from shared.domain.envelope import Envelope
from shared.domain.status_view import status_envelope
from shared.ports import OutboxMessage

SOURCE = "/jsb/ledger"
_IDS = UUID("5d0c1f7e-3b54-4f43-9a8e-6a7362737461")  # namespace of status message ids


def status_message(projection: SubjectProjection, topic_suffix: str = "") -> OutboxMessage:
    caused_by = to_recorded(projection.head).envelope
    envelope = status_envelope(
        projection.status, caused_by, source=SOURCE, time=projection.as_of, document={}
    ).model_copy(update={"id": uuid5(_IDS, str(caused_by.id))})
    return OutboxMessage(
        topic=STATUS + topic_suffix,
        key=projection.subject_id,
        value=_with_data(envelope, projection.status_json),
        headers={"jsb-type": envelope.type, "jsb-caused-by": str(caused_by.id)},
    )


def _with_data(envelope: Envelope, document: bytes) -> bytes:
    """`envelope.to_json_bytes()` where its data is `document` (serialised JSON of an
    object) followed by the envelope's own data (`caused_by`, never empty). `data` is
    the envelope's last field (a status envelope has no extra fields)."""
    head = envelope.model_dump_json(exclude_none=True, exclude={"data"}).encode()
    own = pydantic_core.to_json(envelope.data)
    return head[:-1] + b',"data":' + document[:-1] + b"," + own[1:] + b"}"
