"""Sends the queued deliveries: one lane (an asyncio task with its own HTTP client)
per enabled subscription, so a slow or dead endpoint only ever holds its own lane.

Within a lane at most `concurrency` requests are in flight, each for a different
subject (the `DeliveryQueue` port, ports.py, says why order per subject holds); a token bucket
enforces the subscription's rate limit. Each attempt is signed at send time (a fresh
`webhook-timestamp`, every secret in force: old and new during a rotation) over the
stored body, which never changes, with the delivery's fixed `webhook-id`. Redirects
are not followed. The outcome is recorded in one transaction with the endpoint's
failing streak (and its disabling).

Everything stored goes through the `WebhookStore` port (ports.py): Postgres in the
service, memory in the unit tests, which also hand the lanes an
`httpx.MockTransport` in place of the network.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import httpx
from prometheus_client import CollectorRegistry, Counter, Histogram

from services.notifier import retry_policy, signing, subscriptions
from services.notifier.ports import Claimed, Subscription, WebhookStore
from services.notifier.rate_limit import TokenBucket
from services.notifier.retry_policy import Outcome, Verdict
from services.notifier.secret_box import SecretBox
from services.notifier.settings import NotifierSettings

log = logging.getLogger(__name__)


class DeliveryMetrics:
    def __init__(self, registry: CollectorRegistry, outcomes: Counter | None = None) -> None:
        self.outcomes = outcomes
        """`jsb_webhook_deliveries_total{outcome}` (issue 12): what became of a delivery
        after an attempt — delivered, retried, failed (not retried: a 4xx), dead
        (attempts exhausted)."""
        self.attempts = Counter(
            "notifier_delivery_attempts",
            "Webhook delivery attempts by outcome",
            ["outcome"],
            registry=registry,
        )
        self.seconds = Histogram(
            "notifier_delivery_seconds", "Webhook request duration", registry=registry
        )
        self.disabled = Counter(
            "notifier_endpoints_disabled",
            "Subscriptions disabled for failing too long, by what found it: a failed"
            " attempt, or the disable sweep",
            ["by"],
            registry=registry,
        )


class Dispatcher:
    def __init__(
        self,
        store: WebhookStore,
        settings: NotifierSettings,
        box: SecretBox,
        metrics: DeliveryMetrics,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        """`transport`: the lanes' HTTP transport (None: the network)."""
        self.store, self.settings, self.box = store, settings, box
        self.metrics, self.transport = metrics, transport
        self.lanes: dict[UUID, asyncio.Task[None]] = {}

    async def run(self, stop: asyncio.Event) -> None:
        """Keep one lane per enabled subscription (started, and stopped when disabled
        or deleted)."""
        try:
            while not stop.is_set():
                try:
                    await self._supervise()
                except Exception:
                    log.exception("dispatcher: supervision failed; retrying")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 0.5)
        finally:
            for task in self.lanes.values():
                task.cancel()
            await asyncio.gather(*self.lanes.values(), return_exceptions=True)

    async def _supervise(self) -> None:
        async with self.store.begin() as tx:
            wanted = {s.id: s for s in await tx.subscriptions.enabled()}
        for sid, task in list(self.lanes.items()):
            if sid not in wanted or task.done():
                task.cancel()
                del self.lanes[sid]
        for sid, row in wanted.items():
            if sid not in self.lanes:
                self.lanes[sid] = asyncio.create_task(self._lane(row), name=f"lane:{sid}")

    async def _lane(self, sub: Subscription) -> None:
        s = self.settings
        bucket = TokenBucket(sub.rate_limit_per_s or s.rate_limit_per_s)
        busy: dict[str, asyncio.Task[None]] = {}
        async with httpx.AsyncClient(
            follow_redirects=False,
            timeout=s.request_timeout_s,
            trust_env=False,
            transport=self.transport,
        ) as client:
            while True:
                try:
                    free = s.concurrency - len(busy)
                    if free > 0:
                        async with self.store.begin() as tx:
                            claimed = await tx.queue.claim(
                                sub.id, free, list(busy), s.request_timeout_s + 5
                            )
                            secrets = await subscriptions.signing_secrets(tx, self.box, sub.id)
                        for c in claimed:
                            busy[c.subject_id] = asyncio.create_task(
                                self._send(client, bucket, sub, c, secrets)
                            )
                    sleeper = asyncio.ensure_future(asyncio.sleep(s.dispatch_poll_s))
                    waiters: list[asyncio.Future[Any]] = [*busy.values(), sleeper]
                    await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
                    sleeper.cancel()
                    for subject, task in list(busy.items()):
                        if task.done():
                            del busy[subject]
                except asyncio.CancelledError:
                    for task in busy.values():
                        task.cancel()
                    raise
                except Exception as exc:
                    # The type only: a database error's text carries its parameters,
                    # subject ids among them (identity numbers never go to the log).
                    log.error("lane %s: round failed (%s); retrying", sub.id, type(exc).__name__)
                    await asyncio.sleep(1.0)

    async def _send(
        self,
        client: httpx.AsyncClient,
        bucket: TokenBucket,
        sub: Subscription,
        c: Claimed,
        secrets: list[str],
    ) -> None:
        await bucket.take()
        body = c.body.encode()
        headers = signing.headers(secrets, c.webhook_id, int(time.time()), body)
        started = time.perf_counter()
        try:
            response = await client.post(sub.url, content=body, headers=headers)
            outcome = retry_policy.of_response(
                response.status_code, response.headers.get("retry-after"), datetime.now(UTC)
            )
        except httpx.TimeoutException:
            outcome = retry_policy.of_error("timeout")
        except httpx.HTTPError as exc:
            outcome = retry_policy.of_error(f"{type(exc).__name__}")
        self.metrics.seconds.observe(time.perf_counter() - started)
        self.metrics.attempts.labels(outcome.verdict.value).inc()
        await self._record(sub, c, outcome)

    async def _record(self, sub: Subscription, c: Claimed, outcome: Outcome) -> None:
        s = self.settings
        retry_in_s: float | None = None
        at = datetime.now(UTC)  # one clock for the death and the streak (`release`)
        async with self.store.begin() as tx:
            if outcome.verdict is Verdict.DELIVERED:
                await tx.queue.delivered(c.id, outcome.status_code or 200)
            else:
                retry_in = None
                if outcome.verdict is Verdict.RETRY and c.attempts < s.max_attempts:
                    retry_in = retry_policy.next_delay_s(
                        outcome, c.attempts, s.backoff_base_s, s.backoff_max_s
                    )
                await tx.queue.failed(
                    c.id,
                    status=outcome.status_code,
                    error=outcome.error or "failed",
                    retry_in_s=retry_in,
                    at=at,
                )
                retry_in_s = retry_in
            disabled = await subscriptions.note_outcome(
                tx,
                sub.id,
                outcome.verdict is Verdict.DELIVERED,
                timedelta(seconds=s.disable_after_s),
                outcome.error or "",
                at,
            )
        if disabled:
            log.warning("lane %s: subscription disabled (endpoint down)", sub.id)
            self.metrics.disabled.labels("attempt").inc()
        if self.metrics.outcomes is not None:  # counted once the outcome is committed
            self.metrics.outcomes.labels(_fate(outcome, retry_in_s)).inc()


def _fate(outcome: Outcome, retry_in_s: float | None) -> str:
    if outcome.verdict is Verdict.DELIVERED:
        return "delivered"
    if retry_in_s is not None:
        return "retried"
    return "dead" if outcome.verdict is Verdict.RETRY else "failed"
