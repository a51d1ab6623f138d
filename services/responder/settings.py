"""The responder's settings (env prefix `JSB_RESPONDER_`, plus the stack-wide names)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.adapters.settings import ServiceSettings

ExecutionMode = Literal["auto", "manual"]


class ResponderSettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="JSB_RESPONDER_", populate_by_name=True, extra="ignore"
    )

    db_schema: str = "responder"
    group_id: str = "jsb.responder"
    port: int = 8002

    departments: str = ""
    """Departments this process hosts, comma-separated catalogue codes; empty: every
    department of the catalogue (the local stack). In production: one."""
    default_mode: ExecutionMode = "auto"
    """How a measure is executed unless `execution_modes` names it."""
    execution_modes: dict[str, ExecutionMode] = Field(default_factory=dict)
    """Measure code → `auto` | `manual` (JSON in the environment:
    `JSB_RESPONDER_EXECUTION_MODES='{"travel.restrict_flight": "manual"}'`)."""

    lane_batch: int = 200
    """Deliveries a department applies per transaction."""
    lane_concurrency: int = 3
    """Departments applying at the same time (each holds one database connection)."""
    scan_interval_s: float = 1.0
    """How often the lanes look for work nobody announced: due clock transitions
    (expiry, end of a measure's own duration) and events another instance ingested."""
    check_pool_size: int = 4
    """Postgres connections of the check path (the group commits, the in-process
    index's load, index lookups while it loads)."""
    check_journal_writers: int = 3
    """Groups of checks committing at the same time (check_journal.py says why)."""
    freshness_persist_s: float = 5.0
    """How often the ingest's "caught up at" instant is written down for restarts."""
    gc_threshold: int = 10_000
    """Not Python's 700: the passes' and the ingest's short-lived objects made the
    collector's older passes run often (pipeline bench, docs/benchmarks.md "fourth
    pass")."""
    """Allocations between two young-generation garbage collections in the responder's
    process (Python's default: 700; 0 keeps it): shared/adapters/collector.py says why."""

    def department_codes(self) -> list[str]:
        return [code.strip() for code in self.departments.split(",") if code.strip()]
