"""Which way imports run (docs/architecture.md, "Layers"). The contracts are in
pyproject.toml's [tool.importlinter] (import-linter); this test fails, printing the
offending import chains, when one is broken:

- shared/ never imports services/; the services do not import one another;
- shared's layers: cli → web → adapters → ports → domain, never upwards;
- shared/adapters and shared/ports know no web framework (FastAPI, Starlette);
- shared/domain does no I/O (no web, database, Kafka, HTTP, asyncio, sockets);
- a service's ports and pure models import no database or web framework.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from importlinter.application.use_cases import SUCCESS, lint_imports
from importlinter.configuration import configure

import shared

ROOT = Path(shared.__file__).resolve().parents[1]


def test_every_import_contract_is_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    configure()
    monkeypatch.chdir(ROOT)
    config = str(ROOT / "pyproject.toml")
    assert lint_imports(config_filename=config, cache_dir=None, no_logo=True) == SUCCESS
