"""The stack the security tests drive: the four services as real processes on their
own topics and schemas, reading a *hashed* token file (what `make up` gives them) that
also holds an expired and a revoked token; and a world in it: a designation by the tax
administration with its tasks, an objection, a subscription.

One stack for the session, whichever of the security modules asks first."""

from __future__ import annotations

import asyncio
import atexit
import json
import os
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from shared.adapters import kafka_admin
from shared.adapters.migrations import upgrade_all
from shared.adapters.topics import TOPICS, TopicSpec
from shared.web.auth import AUDITOR, OPS
from shared.web.tokens import TokenEntry, hashed_file, token_hash
from tests.conftest import drop_schemas
from tests.support import initiator_bodies as bodies
from tests.support.infra import Infra, unique
from tests.support.poll import until
from tests.support.stack import Stack, start_stack

EXPIRED = "expired"
REVOKED = "revoked"


@dataclass
class World:
    stack: Stack
    tokens: dict[str, str]
    """Plaintext tokens by name, with `expired` and `revoked` ones (of the tax office)."""
    designation: dict[str, Any]
    """By `tax`, with tasks for other departments."""
    task_department: str
    """A department holding a task of the designation."""
    bystander: str
    """A department neither designating nor holding a task of it."""
    task_id: str
    objection_id: str
    subscription_id: str
    workdir: Path

    def client(self, name: str, as_: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.tokens[as_]}"} if as_ else {}
        return httpx.Client(base_url=self.stack.url(name), headers=headers, timeout=60)

    @property
    def subject_id(self) -> str:
        return str(self.designation["subject_id"])

    @property
    def designation_id(self) -> str:
        return str(self.designation["designation_id"])


_world: World | None = None


def _hashes_file(workdir: Path, tokens: dict[str, str], every: dict[str, str]) -> Path:
    doc = hashed_file(tokens, [])
    an_hour_ago = datetime.now(UTC) - timedelta(hours=1)
    doc["tokens"] += [
        TokenEntry("tax", token_hash(every[EXPIRED]), expires_at=an_hour_ago).document(),
        TokenEntry("tax", token_hash(every[REVOKED]), revoked=True).document(),
    ]
    path = workdir / "token-hashes.json"
    path.write_text(json.dumps(doc))
    return path


def _start(infra: Infra, workdir: Path) -> World:
    from shared.cli.stack_cmd import department_codes

    names = [*department_codes(), AUDITOR, OPS]
    tokens = {name: secrets.token_urlsafe(24) for name in names}
    topic_suffix, schema_suffix = "." + unique("sec"), "_" + unique("sec")
    asyncio.run(
        kafka_admin.ensure_topics(
            infra.kafka, 3, tuple(TopicSpec(t.name + topic_suffix, t.configs) for t in TOPICS)
        )
    )
    upgrade_all(url=infra.admin_url, schema_suffix=schema_suffix, role=infra.service_role)
    every = {**tokens, EXPIRED: secrets.token_urlsafe(24), REVOKED: secrets.token_urlsafe(24)}
    # start_stack writes the plaintext file for clients; the services read the hashes
    hashes = _hashes_file(workdir, tokens, every)
    env = {"JSB_TOKEN_HASHES_FILE": str(hashes), "JSB_NOTIFIER_ALLOW_LOOPBACK": "true"}
    stack = start_stack(
        infra, topic_suffix, schema_suffix, tokens, workdir, env, ready_timeout_s=180
    )

    def stop() -> None:
        stack.stop()
        if not os.environ.get("JSB_KEEP_TEST_DATA"):
            drop_schemas(infra.admin_url, schema_suffix)

    atexit.register(stop)
    world = _populate(stack, every, workdir)
    return world


def _populate(stack: Stack, tokens: dict[str, str], workdir: Path) -> World:
    def call(service: str, as_: str) -> httpx.Client:
        return httpx.Client(
            base_url=stack.url(service),
            headers={"Authorization": f"Bearer {tokens[as_]}"},
            timeout=60,
        )

    with call("initiator", "tax") as tax:
        created = tax.post("/v1/designations", json=bodies.designation())
        assert created.status_code == 201, created.text
        designation = created.json()
        objection = tax.post(
            f"/v1/designations/{designation['designation_id']}/objections",
            json={"raised_by": "subject", "grounds": "已补缴"},
        )
        assert objection.status_code == 201, objection.text
    holders = sorted({t["department"] for t in designation["tasks"]} - {"tax"})
    from shared.cli.stack_cmd import department_codes

    bystander = next(d for d in department_codes() if d not in {*holders, "tax"})
    holder = holders[0]
    with call("responder", holder) as responder:
        listed = until(
            lambda: responder.get(
                "/v1/tasks", params={"designation_id": designation["designation_id"]}
            ).json(),
            lambda doc: bool(doc.get("tasks")),
            timeout_s=120,
        )
    with call("notifier", OPS) as ops:
        sub = ops.post(
            "/v1/subscriptions",
            json={"name": "matrix", "url": "http://127.0.0.1:9/hook"},
        )
        assert sub.status_code == 201, sub.text
    return World(
        stack=stack,
        tokens=tokens,
        designation=designation,
        task_department=holder,
        bystander=bystander,
        task_id=listed["tasks"][0]["task_id"],
        objection_id=objection.json()["objection_id"],
        subscription_id=sub.json()["id"],
        workdir=workdir,
    )


@pytest.fixture(scope="session")
def world(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> World:
    global _world
    if _world is None:
        _world = _start(infra, tmp_path_factory.mktemp("sec-stack"))
    return _world
