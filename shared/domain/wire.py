"""Reading an event off the wire: bytes → a valid envelope, or a reason it is poison."""

from __future__ import annotations

from pydantic import ValidationError

from shared.domain.envelope import Envelope


class PoisonMessage(ValueError):
    """A message no consumer can apply: unparseable, unknown type or invalid schema."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def parse_event(raw: bytes | None) -> Envelope:
    if not raw:
        raise PoisonMessage("empty message")
    try:
        return Envelope.from_json_bytes(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first.get("loc", ())) or "message"
        raise PoisonMessage(f"not a valid event envelope: {where}: {first.get('msg')}") from exc
