"""The notifier's configuration (environment, prefix `JSB_NOTIFIER_`)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from shared.adapters.settings import LOCAL_DIR, ServiceSettings


class NotifierSettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="JSB_NOTIFIER_", populate_by_name=True, extra="ignore"
    )

    db_schema: str = "notifier"
    group_id: str = "jsb.notifier"
    port: int = 8004
    batch_size: int = 100
    """Status messages per ingest transaction: smaller batches commit (and so reach
    the dispatcher) sooner."""
    fetch_min_bytes: int = 1_000_000
    fetch_max_wait_ms: int = 250
    """The broker holds the status consumer's fetch until ~1 MB (~40 statuses of a court
    debtor) have gathered, or 250 ms have passed: a batch's fixed cost (a dozen
    statements, its offsets, a Kafka commit: ~3 ms of the notifier's CPU) was paid
    for ~8 statuses in the pipeline, where polls took what had arrived (aiokafka's
    defaults: 1 byte, 500 ms). Up to 250 ms more before a webhook is queued."""
    poll_interval_s: float = 0.5
    """How long the outbox relay sleeps when it found nothing to publish. The
    notifier's outbox holds only dead letters (rare), so it polls ten times less often
    than the other services (0.05 s): at 0.05 s its empty rounds were ~60 % of an
    idle notifier's CPU (15.5 ms per second) and ~6 % of its CPU in the pipeline."""

    # -- secrets at rest --
    gc_threshold: int = 10_000
    """Allocations between two young-generation garbage collections in the notifier's
    process (Python's default: 700; 0 keeps it): shared/adapters/collector.py says why."""
    secret_key: SecretStr | None = None
    """Fernet key (urlsafe base64, 32 bytes) that encrypts the signing secrets. No
    default: when unset, the key is read from `secret_key_file`, which is created
    (mode 0600) on first start for the local stack."""
    secret_key_file: Path = LOCAL_DIR / "notifier-secret.key"

    # -- subscriptions and their URLs --
    allow_loopback: bool = False
    """Accept http://127.0.0.1 / localhost targets (local use and tests)."""
    allowed_private_cidrs: list[str] = Field(default_factory=list)
    """Private ranges a target may resolve into (otherwise refused), e.g. ["10.20.0.0/16"]."""
    secret_overlap_s: float = 24 * 3600
    """After a rotation the old secret keeps signing (beside the new one) this long."""

    # -- delivery --
    max_attempts: int = 8
    backoff_base_s: float = 5.0
    backoff_max_s: float = 3600.0
    request_timeout_s: float = 10.0
    concurrency: int = 4
    """Requests in flight per subscription (different subjects; one subject in order)."""
    rate_limit_per_s: float = 50.0
    """Default requests per second per subscription (each may set its own)."""
    dispatch_poll_s: float = 0.2
    disable_after_s: float = 5 * 24 * 3600
    """An endpoint failing without a success for this long is disabled (ops told)."""
    disable_sweep_s: float = 60.0
    """How often the disable sweep (disable_sweep.py) looks for endpoints failing
    longer than `disable_after_s` that no attempt came to disable."""

    # -- reminders and escalations --
    remind_after_s: float = 0.0
    """A task unanswered this long after the end of its feedback deadline: a reminder."""
    escalate_after_s: float = 5 * 24 * 3600
    """...and this long after it: an escalation to the credit office (ops)."""
    objection_nearing_s: float = 3 * 24 * 3600
    """An open objection this close to the end of its review deadline: the initiator is told."""
    reminder_scan_s: float = 30.0
    clock_offset_s: float = 0.0
    """Test clock: the notifier's "now" is the wall clock plus this (reminders only)."""

    # -- live stream --
    stream_heartbeat_s: float = 15.0
    stream_poll_s: float = 0.5
