"""A status message from jsb.status.v1 → its envelope (data as decoded JSON), or the
reason it is poison (ValueError, pydantic's ValidationError among them).

Why two decoders: validating each ~24 kB status with pydantic (the envelope from
JSON, then the data as `StatusChanged`) was ~45 % of the notifier's ingest CPU
(py-spy, docs/benchmarks.md "Notifier ingest"). The fast path parses the message
once with orjson (the dict the notifier reads), then checks that whole document
against msgspec types mirrored from the same pydantic models (`msgspec.convert`,
strict; shared/domain/msgspec_mirror.py: a subset of what pydantic accepts). It used to check the
raw JSON with msgspec's typed decoder and parse it again with orjson: ~13 µs more a
status (~108 against ~95 µs, docs/benchmarks.md "Fourth round"). Whatever the fast path
does not accept — a malformed or wrong-schema message, but also a valid one in a
form only pydantic's lax rules take ("1" for an int, a number for a date) — goes
through pydantic exactly as before, which decides and names the reason. So the
messages accepted, the envelopes they give and the dead letters' reasons are the
old ones (tests/unit/test_notifier_status_decoder.py generates documents to show
it); only canonical messages, what the ledger publishes, get cheaper.
"""

from __future__ import annotations

import msgspec
import orjson
from pydantic import ValidationError

from shared.adapters.screen import refuse_nul
from shared.domain.envelope import Envelope
from shared.domain.msgspec_mirror import mirror
from shared.domain.status_models import StatusChanged

_MESSAGE = mirror(Envelope, {"data": mirror(StatusChanged)})


def decode(value: bytes | None) -> Envelope:
    """The status message's envelope; raises ValueError (or ValidationError) naming
    why the message is poison."""
    fast = _fast(value)
    return fast if fast is not None else judged(value)


def _fast(value: bytes | None) -> Envelope | None:
    """The envelope of a message that passes the strict mirror, else None."""
    if not isinstance(value, bytes):
        return None
    try:
        doc = orjson.loads(value)
        msgspec.convert(doc, _MESSAGE, strict=True)
        refuse_nul(value)
        # the envelope's few fields by pydantic; its data (the mirror checked it) as
        # parsed, as the old path held it
        envelope = Envelope.model_validate(doc)
    except (msgspec.MsgspecError, orjson.JSONDecodeError, ValidationError, ValueError):
        return None
    # read from the parsed envelope: with a key twice, the last one counts there
    return envelope if envelope.type == StatusChanged.TYPE else None


def judged(value: bytes | None) -> Envelope:
    """pydantic's verdict, as ingest decided before the fast path (the reference)."""
    envelope = Envelope.from_json_bytes(value)  # type: ignore[arg-type]
    refuse_nul(value)  # type: ignore[arg-type]
    if envelope.type != StatusChanged.TYPE:
        raise ValueError(f"unexpected type {envelope.type}")
    StatusChanged.model_validate(envelope.data)  # a wrong schema is poison
    return envelope
