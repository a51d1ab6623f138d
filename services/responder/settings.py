from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from shared.adapters.settings import ServiceSettings


class ResponderSettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="JSB_RESPONDER_", populate_by_name=True, extra="ignore"
    )

    db_schema: str = "responder"
    group_id: str = "jsb.responder"
    port: int = 8002
