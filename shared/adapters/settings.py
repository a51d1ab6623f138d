"""Configuration shared by every service, read from the environment.

Each service subclasses `ServiceSettings` with its own `env_prefix` (JSB_LEDGER_,
...). The stack-wide endpoints keep the plain names that `.local/stack.env` and
docker-compose use (`KAFKA_BOOTSTRAP_SERVERS`, `DATABASE_URL`): an alias bypasses
the prefix. Local defaults need no setting.

No default carries a secret: the database URLs name the role, not its password.
The local stack writes the full URLs to `.local/stack.env`, and a libpq password
file (`PGPASSFILE=.local/pgpass`, which asyncpg reads too) for anything that falls
back on these defaults.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parents[2]
LOCAL_DIR = PROJECT_ROOT / ".local"

DEFAULT_DATABASE_URL = "postgresql+asyncpg://jsb@127.0.0.1:55432/jsb"
DEFAULT_KAFKA = "127.0.0.1:9092"


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(populate_by_name=True, extra="ignore")

    kafka_bootstrap_servers: str = Field(DEFAULT_KAFKA, alias="KAFKA_BOOTSTRAP_SERVERS")
    database_url: str = Field(DEFAULT_DATABASE_URL, alias="DATABASE_URL")
    tokens_file: Path = Field(LOCAL_DIR / "tokens.json", alias="JSB_TOKENS_FILE")
    token_hashes_file: Path | None = Field(None, alias="JSB_TOKEN_HASHES_FILE")
    """The services' token file: SHA-256 hashes, expiry, revocation (shared/web/tokens.py);
    unset, the services hash the plaintext `tokens_file` (local development) in memory."""
    log_level: str = Field("INFO", alias="JSB_LOG_LEVEL")
    db_schema: str = "public"
    """The Postgres schema of this service's tables (tests point it at a fresh one)."""
    topic_suffix: str = Field("", alias="JSB_TOPIC_SUFFIX")
    """Appended to every topic name: lets a test run the services on its own topics."""
    poll_interval_s: float = 0.05
    batch_size: int = 500
    relay_batch_size: int = 0
    """Outbox rows per relay round; 0: `batch_size`. A round holds its rows and the
    producer's copies of them until they are sent, so a service whose messages are
    big (the ledger's status documents) keeps rounds small."""
    gc_threshold: int = 0
    """Allocations between two young-generation collections while the service runs
    (ServiceRuntime.open; shared/adapters/collector.py says why); 0 keeps Python's 700."""
    relay_ack_timeout_s: float = 60.0
    """How long a relay round waits for the broker's acknowledgements before the
    producer is replaced (shared/adapters/outbox.py says why)."""
