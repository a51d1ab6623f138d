"""Request and response bodies of the notifier's HTTP API (contract: issue 14)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from services.notifier.filters import Filters


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SubscriptionCreate(_Body):
    name: str = Field(min_length=1, max_length=200)
    url: str = Field(min_length=1, max_length=2000)
    filters: Filters = Filters()
    contact: str | None = Field(None, max_length=200)
    """Who else is told when the endpoint is disabled (a department code)."""
    rate_limit_per_s: float | None = Field(None, gt=0, le=10_000)


class SubscriptionPublic(BaseModel):
    id: str
    name: str
    url: str
    filters: dict[str, Any]
    contact: str | None
    rate_limit_per_s: float | None
    state: str
    failing_since: datetime | None
    disabled_at: datetime | None
    disabled_reason: str | None
    created_at: datetime


class SubscriptionCreated(SubscriptionPublic):
    secret: str
    """The signing secret (`whsec_…`): shown once, never again."""


class SecretRotated(BaseModel):
    secret: str
    previous_valid_until: datetime
    """Until then the previous secret(s) sign too (receivers accept either)."""


class Recover(_Body):
    since: AwareDatetime | None = None
    """Re-send what reached the notifier at or after this instant..."""
    since_position: int | None = Field(None, ge=0)
    """...or after this position of the status log (`position` in deliveries)."""

    @model_validator(mode="after")
    def _one(self) -> Recover:
        if (self.since is None) == (self.since_position is None):
            raise ValueError("give exactly one of since, since_position")
        return self


class Recovered(BaseModel):
    queued: int


class DeliveryPublic(BaseModel):
    id: int
    subscription_id: str
    position: int
    subject_id: str
    webhook_id: str
    state: str
    attempts: int
    next_attempt_at: datetime
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None


class NoticePublic(BaseModel):
    id: int
    kind: str
    audience: str
    recipient: str
    subject_id: str | None
    designation_id: str | None
    department: str | None
    deadline: Any
    text_zh: str
    text_en: str
    details: dict[str, Any]
    channel: str
    created_at: datetime
