from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from shared.adapters.settings import ServiceSettings


class NotifierSettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="JSB_NOTIFIER_", populate_by_name=True, extra="ignore"
    )

    db_schema: str = "notifier"
    group_id: str = "jsb.notifier"
    port: int = 8004
