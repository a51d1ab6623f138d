"""A private Kafka broker (deploy/scripts/kafka.sh in a directory of our own, on free
ports) and a stack of the four services on it, for responder tests that must stop
Kafka — the shared broker stays up — or run the responder with its own settings."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import secrets
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from shared.adapters import kafka_admin
from shared.adapters.migrations import upgrade_all
from shared.adapters.settings import PROJECT_ROOT
from shared.adapters.topics import TOPICS, TopicSpec
from shared.web.auth import AUDITOR, OPS
from tests.support.infra import Infra, unique
from tests.support.stack import Stack, listen_ports, start_stack

KAFKA_SH = PROJECT_ROOT / "deploy" / "scripts" / "kafka.sh"


class BrokerScriptFailed(RuntimeError):
    """kafka.sh failed; the message carries its output and the broker log's errors."""


@dataclass
class PrivateKafka:
    bootstrap: str
    env: dict[str, str]

    def start(self, attempts: int = 3) -> None:
        """kafka.sh gives the broker 60 s to log that it started; on the shared 2-core
        machine under load it can take longer. Asked again, it finds the broker running
        and waits for it to answer; a broker that exited is started again."""
        for attempt in range(attempts):
            try:
                self._run("start", timeout=240)
                return
            except BrokerScriptFailed:
                if attempt == attempts - 1:
                    raise

    def stop(self) -> None:
        self._run("stop", timeout=60)

    def _run(self, action: str, *, timeout: float) -> None:
        """kafka.sh ACTION; a failure says why: the script's output and the broker's log
        (a bare CalledProcessError with the output captured hid both)."""
        try:
            subprocess.run(
                [str(KAFKA_SH), action],
                env=self.env,
                check=True,
                timeout=timeout,
                capture_output=True,
                text=True,
            )
        except (subprocess.CalledProcessError, subprocess.TimeoutExpired) as failure:
            raise BrokerScriptFailed(
                f"private Kafka `kafka.sh {action}` failed ({failure}):\n"
                f"--- its output ---\n{_text(failure.stdout)}{_text(failure.stderr)}\n"
                f"--- broker log ---\n{self.log_tail()}"
            ) from failure

    def log_tail(self, lines: int = 15) -> str:
        """The broker log's ERROR/FATAL lines (its shutdown after a failed start buries
        them) and its last LINES lines."""
        log = Path(self.env["JSB_LOCAL_DIR"]) / "logs" / "kafka.log"
        try:
            text = log.read_text(errors="replace").splitlines()
        except OSError as missing:
            return f"(no broker log: {missing})"
        errors = [line for line in text if " ERROR " in line or " FATAL " in line][-10:]
        return "\n".join([*errors, "...", *text[-lines:]])


def _text(output: str | bytes | None) -> str:
    # A timeout's partial output comes back as bytes even with text=True.
    if isinstance(output, bytes):
        return output.decode(errors="replace")
    return output or ""


@contextmanager
def private_kafka() -> Iterator[PrivateKafka]:
    """A single-node broker of our own; stopped and deleted afterwards. Not under
    pytest's tmp directories: concurrent sessions rotate those."""
    home = Path(tempfile.mkdtemp(prefix="jsb-responder-kafka-"))
    port, controller_port = listen_ports(2)
    env = {
        **os.environ,
        "JSB_LOCAL_DIR": str(home),
        "JSB_KAFKA_PORT": str(port),
        "JSB_KAFKA_CONTROLLER_PORT": str(controller_port),
        "JSB_TOPIC_PARTITIONS": "3",
    }
    kafka = PrivateKafka(f"127.0.0.1:{port}", env)
    try:
        kafka.start()
        yield kafka
    finally:
        kafka.stop()
        shutil.rmtree(home, ignore_errors=True)


def tokens() -> dict[str, str]:
    from shared.cli.stack_cmd import department_codes

    return {name: secrets.token_urlsafe(16) for name in [*department_codes(), AUDITOR, OPS]}


@contextmanager
def private_stack(infra: Infra, extra_env: dict[str, str]) -> Iterator[tuple[Stack, PrivateKafka]]:
    """The four services on a private broker, fresh topics and schemas."""
    from tests.conftest import drop_schemas

    workdir = Path(tempfile.mkdtemp(prefix="jsb-responder-stack-"))
    with private_kafka() as kafka:
        own = dataclasses.replace(infra, kafka=kafka.bootstrap)
        topic_suffix, schema_suffix = "." + unique("rsp"), "_" + unique("rsp")
        asyncio.run(
            kafka_admin.ensure_topics(
                own.kafka, 3, tuple(TopicSpec(t.name + topic_suffix, t.configs) for t in TOPICS)
            )
        )
        upgrade_all(url=own.admin_url, schema_suffix=schema_suffix, role=own.service_role)
        stack = start_stack(own, topic_suffix, schema_suffix, tokens(), workdir, extra_env)
        try:
            yield stack, kafka
        finally:
            stack.stop()
            drop_schemas(own.admin_url, schema_suffix)
            shutil.rmtree(workdir, ignore_errors=True)
