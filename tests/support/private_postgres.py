"""A private PostgreSQL cluster (deploy/scripts/postgres.sh in a directory of our own,
on a free port: its roles and database as the local stack's), for tests that stop
and start the database — the shared one stays up."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from shared.adapters.settings import PROJECT_ROOT
from tests.support.stack import listen_ports

POSTGRES_SH = PROJECT_ROOT / "deploy" / "scripts" / "postgres.sh"


@dataclass
class PrivatePostgres:
    port: int
    env: dict[str, str]

    @property
    def database_url(self) -> str:
        return f"postgresql+asyncpg://jsb:jsb@127.0.0.1:{self.port}/jsb"

    @property
    def admin_url(self) -> str:
        return f"postgresql+asyncpg://jsb_admin:jsb_admin@127.0.0.1:{self.port}/jsb"

    def start(self) -> None:
        subprocess.run(
            [str(POSTGRES_SH), "start"], env=self.env, check=True, timeout=180, capture_output=True
        )

    def stop(self) -> None:
        subprocess.run(
            [str(POSTGRES_SH), "stop"], env=self.env, check=True, timeout=60, capture_output=True
        )


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    home = Path(tempfile.mkdtemp(prefix="jsb-chaos-pg-"))
    home.chmod(0o755)  # the server runs as the postgres user when we are root
    (port,) = listen_ports(1)
    env = {**os.environ, "JSB_LOCAL_DIR": str(home), "JSB_PG_PORT": str(port)}
    env.pop("PGPASSFILE", None)
    pg = PrivatePostgres(port, env)
    try:
        pg.start()
        yield pg
    finally:
        try:
            pg.stop()
        finally:
            shutil.rmtree(home, ignore_errors=True)
