from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from shared.adapters.settings import ServiceSettings


class InitiatorSettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="JSB_INITIATOR_", populate_by_name=True, extra="ignore"
    )

    db_schema: str = "initiator"
    group_id: str = "jsb.initiator"
    port: int = 8001
