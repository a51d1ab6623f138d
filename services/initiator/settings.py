"""The initiator's settings (env prefix `JSB_INITIATOR_`, plus the stack-wide names)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.adapters.settings import ServiceSettings


class InitiatorSettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="JSB_INITIATOR_", populate_by_name=True, extra="ignore"
    )

    db_schema: str = "initiator"
    group_id: str = "jsb.initiator"
    port: int = 8001

    ledger_url: str = Field("http://127.0.0.1:8003", alias="LEDGER_URL")
    """The ledger asked for the cross-check (交叉比对) of incentive designations."""
    ledger_token: str | None = None
    """Bearer token for the ledger; default: the `ops` entry of the tokens file."""
    ledger_timeout_s: float = 3.0
    """Past this the ledger "cannot answer" and the designation is refused with 503."""
    ledger_concurrency: int = 16
    """Parallel status look-ups for the incentive items of one batch."""

    timer_poll_s: float = 1.0
    """How often the timer loop looks for due timers (tests use a short one)."""
    timer_batch: int = 200
    """Due timers picked per round (each runs in its own transaction)."""
    objection_reminder_working_days: int = 3
    """The "deadline nears" reminder goes out this many working days before it."""

    batch_chunk_size: int = 1000
    """Designations of a batch decided per transaction (bounds locks held at once)."""
