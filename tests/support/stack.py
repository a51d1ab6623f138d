"""The four services as real processes (uvicorn), on this test session's own
topics and schemas, so e2e tests drive them over HTTP exactly as a department
would, and may SIGKILL and restart one mid-stream."""

from __future__ import annotations

import json
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from bench.servers import UVICORN_FLAGS
from shared.adapters.settings import PROJECT_ROOT
from tests.support.infra import Infra

SERVICES = ("initiator", "responder", "ledger", "notifier")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def listen_ports(count: int) -> list[int]:
    """COUNT free ports for a server that binds them only seconds later (a private
    broker: its jars and storage come first). free_port's come from the kernel's
    ephemeral range, where any outgoing connection of the suite may take one in the
    meantime (the broker then exits with "Address already in use"); these come from
    below that range, where only listeners bind."""
    low = _ephemeral_low()
    ports: list[int] = []
    while len(ports) < count:
        port = random.randrange(max(1024, low - 12000), low)
        if port not in ports and _bindable(port):
            ports.append(port)
    return ports


def _ephemeral_low() -> int:
    try:
        return int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


def _bindable(port: int) -> bool:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


@dataclass
class ServiceProcess:
    name: str
    port: int
    env: dict[str, str]
    log_path: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, wait: bool = True) -> None:
        log = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                f"services.{self.name}.app:app",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                *UVICORN_FLAGS,
            ],
            cwd=PROJECT_ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        if wait:
            self.wait_ready()

    def wait_ready(self, timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s
        answers: Counter[str] = Counter()  # what /readyz said meanwhile, for the failure
        last = ""
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"{self.name} exited: {self.tail()}")
            try:
                answer = httpx.get(self.url + "/readyz", timeout=2)
                if answer.status_code == 200:
                    return
                answers[str(answer.status_code)] += 1
                last = answer.text[:500]
            except httpx.HTTPError as exc:
                answers[type(exc).__name__] += 1
            time.sleep(0.2)
        raise RuntimeError(
            f"{self.name} not ready in {timeout_s}s; /readyz answers {dict(answers)}, "
            f"last: {last}; log: {self.tail()}"
        )

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks, no flushing: a crash."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()

    def tail(self, lines: int = 40) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


@dataclass
class Stack:
    services: dict[str, ServiceProcess]
    tokens: dict[str, str]
    topic_suffix: str
    schema_suffix: str
    infra: Infra
    extra_env: dict[str, str] = field(default_factory=dict)

    def url(self, name: str) -> str:
        return self.services[name].url

    def client(self, name: str, as_: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {self.tokens[as_]}"} if as_ else {}
        return httpx.Client(base_url=self.url(name), headers=headers, timeout=30)

    def stop(self) -> None:
        for svc in self.services.values():
            svc.stop()


def start_stack(
    infra: Infra,
    topic_suffix: str,
    schema_suffix: str,
    tokens: dict[str, str],
    workdir: Path,
    extra_env: dict[str, str] | None = None,
    ready_timeout_s: float = 60.0,
) -> Stack:
    tokens_file = workdir / "tokens.json"
    tokens_file.write_text(json.dumps(tokens))
    base = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": infra.kafka,
        "DATABASE_URL": infra.database_url,
        "JSB_TOKENS_FILE": str(tokens_file),
        "JSB_TOPIC_SUFFIX": topic_suffix,
        **(extra_env or {}),
    }
    procs: dict[str, ServiceProcess] = {}
    ports = {name: free_port() for name in SERVICES}
    for name in SERVICES:
        prefix = f"JSB_{name.upper()}_"
        env = {
            **base,
            prefix + "DB_SCHEMA": name + schema_suffix,
            prefix + "GROUP_ID": f"jsb.{name}{topic_suffix}",
            **{f"{n.upper()}_URL": f"http://127.0.0.1:{p}" for n, p in ports.items()},
        }
        procs[name] = ServiceProcess(name, ports[name], env, workdir / f"{name}.log")
    for svc in procs.values():
        svc.start(wait=False)
    try:
        for svc in procs.values():
            svc.wait_ready(ready_timeout_s)
    except BaseException:  # none left running behind a failed start
        for svc in procs.values():
            svc.stop()
        raise
    return Stack(procs, tokens, topic_suffix, schema_suffix, infra, extra_env or {})
