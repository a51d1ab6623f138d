from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from shared.adapters.settings import ServiceSettings


class LedgerSettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="JSB_LEDGER_", populate_by_name=True, extra="ignore"
    )

    db_schema: str = "ledger"
    group_id: str = "jsb.ledger"
    port: int = 8003
