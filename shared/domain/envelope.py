"""The CloudEvents 1.0 envelope (structured JSON mode) every event travels in.

`id` is the idempotency key everywhere; `subject` is the canonical subject id and
the Kafka key; `schemaversion`, `correlationid` and `causationid` are CloudEvents
extension attributes (lower-case alphanumerics, as the spec requires).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID, uuid4

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

SPEC_VERSION: Literal["1.0"] = "1.0"


def dataschema_uri(event_type: str, version: int) -> str:
    """The `dataschema` of an event type at a schema version (see docs/schemas/)."""
    return f"urn:jsb:schema:{event_type}:{version}"


class Envelope(BaseModel):
    model_config = ConfigDict(frozen=True, extra="allow")

    specversion: Literal["1.0"] = SPEC_VERSION
    id: UUID = Field(default_factory=uuid4)
    type: str = Field(min_length=1)
    source: str = Field(min_length=1)
    subject: str = Field(min_length=1)
    time: AwareDatetime
    datacontenttype: Literal["application/json"] = "application/json"
    dataschema: str | None = None
    schemaversion: int = Field(default=1, ge=1)
    correlationid: str | None = None
    causationid: str | None = None
    data: dict[str, Any] = Field(default_factory=dict)

    def to_json_bytes(self) -> bytes:
        return self.model_dump_json(exclude_none=True).encode()

    @classmethod
    def from_json_bytes(cls, raw: bytes) -> Envelope:
        return cls.model_validate_json(raw)

    def caused(self, **fields: Any) -> dict[str, Any]:
        """Envelope fields for an event caused by this one (same correlation)."""
        return {
            "correlationid": self.correlationid or str(self.id),
            "causationid": str(self.id),
            **fields,
        }


def utc_now() -> datetime:
    from datetime import UTC

    return datetime.now(UTC)
