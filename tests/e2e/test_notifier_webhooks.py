"""The notifier behind the real initiator, responder and ledger: webhooks to real
HTTP receivers on loopback that verify every signature with the `standardwebhooks`
package from PyPI (tests/support/notifier_receiver.py)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.support import initiator_bodies as bodies
from tests.support.infra import Infra
from tests.support.notifier_receiver import HANG, Receiver, always, fail_first, receiving
from tests.support.notifier_stack import deliveries, designate, notifier_stack, subscribe
from tests.support.poll import until
from tests.support.stack import Stack
from tests.support.subjects import new_uscc

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def nstack(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    yield from notifier_stack(infra, tmp_path_factory)


def _of(receiver: Receiver, subject: str) -> list[Any]:
    return [r for r in receiver.accepted() if r.event["subject"] == subject]


def _settled(stack: Stack, sub_id: str, subject: str) -> list[dict[str, Any]]:
    """The subscription's deliveries of `subject` once none is pending any more."""

    def probe() -> list[dict[str, Any]]:
        return deliveries(stack, subscription=sub_id, subject_id=subject)

    return until(probe, lambda ds: bool(ds) and all(d["state"] != "pending" for d in ds), 60)


def test_each_change_arrives_once_in_order_with_a_verified_signature(nstack: Stack) -> None:
    with receiving(Receiver()) as rx:
        sub = subscribe(nstack, rx.url)
        rx.secrets.append(sub["secret"])
        subject = new_uscc()
        created = designate(nstack, bodies.designation(subject))
        did = created["designation_id"]
        with nstack.client("initiator", as_="tax") as c:
            r = c.post(
                f"/v1/designations/{did}/objections",
                json={"raised_by": "subject", "grounds": "数据有误"},
            )
            assert r.status_code == 201, r.text
            oid = r.json()["objection_id"]
            r = c.post(f"/v1/objections/{oid}/resolution", json={"outcome": "rejected"})
            assert r.status_code in (200, 201), r.text
        until(
            lambda: [e["type"] for e in _history(nstack, subject)],
            lambda types: "jsb.objection.resolved" in types,
            60,
        )
        time.sleep(2)
        done = _settled(nstack, sub["id"], subject)
        assert {d["state"] for d in done} == {"delivered"}
        got = until(lambda: _of(rx, subject), lambda g: len(g) == len(done), 30)
        assert all(r.verified for r in rx.received if r.event["subject"] == subject)
        # once in effect: one accepted delivery per status change, none twice
        assert len({r.webhook_id for r in got}) == len(got) == len(done)
        # in order: as the status log numbers them, and as the ledger appended the causes
        by_position = [d["webhook_id"] for d in sorted(done, key=lambda d: d["position"])]
        assert [r.webhook_id for r in got] == by_position
        positions = {e["event_id"]: e["position"] for e in _history(nstack, subject)}
        causes = [positions[r.event["data"]["caused_by"]] for r in got]
        assert causes == sorted(causes)
        assert got[-1].event["type"] == "jsb.status.changed"
        assert got[0].headers["webhook-signature"].startswith("v1,")


def _history(stack: Stack, subject: str) -> list[dict[str, Any]]:
    with stack.client("ledger", as_="auditor") as c:
        r = c.get(f"/v1/subjects/{subject}/history")
    assert r.status_code == 200, r.text
    return [
        {**e["event"], "position": e["position"], "event_id": e["event_id"]}
        for e in r.json()["events"]
    ]


def _outcomes(stack: Stack) -> dict[str, float]:
    """`jsb_webhook_deliveries_total` by outcome, from the notifier's /metrics."""
    with stack.client("notifier") as notifier:
        text = notifier.get("/metrics").text
    found: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith("jsb_webhook_deliveries_total{"):
            labels, value = line.rsplit(" ", 1)
            found[labels.split('outcome="')[1].split('"')[0]] = float(value)
    return found


def test_a_receiver_failing_twice_gets_the_message_on_the_third_attempt(nstack: Stack) -> None:
    before = _outcomes(nstack)
    with receiving(Receiver(behaviour=fail_first(2, 503))) as rx:
        sub = subscribe(nstack, rx.url, filters={"event_types": ["jsb.designation.issued"]})
        rx.secrets.append(sub["secret"])
        subject = new_uscc()
        designate(nstack, bodies.designation(subject))
        [first] = until(lambda: _of(rx, subject), lambda g: len(g) == 1, 60)
        tries = [r for r in rx.received if r.webhook_id == first.webhook_id]
        assert [r.answered for r in tries] == [503, 503, 200]
        assert all(r.verified for r in tries)
        assert len({r.headers["webhook-id"] for r in tries}) == 1
        [row] = deliveries(nstack, subscription=sub["id"], subject_id=subject)
        assert (row["state"], row["attempts"], row["webhook_id"]) == (
            "delivered",
            3,
            first.webhook_id,
        )
    after = _outcomes(nstack)  # the outcomes are counted (issue 12's series)
    assert after.get("retried", 0) - before.get("retried", 0) >= 2
    assert after.get("delivered", 0) - before.get("delivered", 0) >= 1


def test_no_retry_on_a_4xx_other_than_408_and_429(nstack: Stack) -> None:
    with receiving(Receiver(behaviour=always(400))) as rx:
        sub = subscribe(nstack, rx.url, filters={"event_types": ["jsb.designation.issued"]})
        rx.secrets.append(sub["secret"])
        subject = new_uscc()
        designate(nstack, bodies.designation(subject))
        [row] = until(
            lambda: deliveries(nstack, subscription=sub["id"], subject_id=subject),
            lambda ds: len(ds) == 1 and ds[0]["state"] == "dead",
            60,
        )
        assert row["attempts"] == 1
        assert row["last_status_code"] == 400
        time.sleep(1.5)
        assert len([r for r in rx.received if r.event["subject"] == subject]) == 1


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _latencies(
    stack: Stack, rx: Receiver, sub_id: str, subjects: list[str]
) -> tuple[list[float], list[float]]:
    """Per subject: (status published by the ledger → received, delivery queued by the
    notifier → received), in seconds."""
    e2e, queued = [], []
    for s in subjects:
        [row] = until(
            lambda s=s: deliveries(stack, subscription=sub_id, subject_id=s),
            lambda ds: len(ds) >= 1 and ds[0]["state"] == "delivered",
            60,
        )[:1]
        [got] = [r for r in rx.accepted() if r.webhook_id == row["webhook_id"]]
        e2e.append(got.at - datetime.fromisoformat(got.event["time"]).timestamp())
        queued.append(got.at - datetime.fromisoformat(row["created_at"]).timestamp())
    return e2e, queued


def _burst(stack: Stack, n: int) -> list[str]:
    subjects = [new_uscc() for _ in range(n)]
    for s in subjects:
        designate(stack, bodies.designation(s))
    return subjects


def test_a_receiver_that_never_answers_does_not_slow_a_healthy_one(nstack: Stack) -> None:
    issued = {"event_types": ["jsb.designation.issued"]}
    with receiving(Receiver()) as healthy, receiving(Receiver(behaviour=always(HANG))) as dead:
        h = subscribe(nstack, healthy.url, filters=issued)
        healthy.secrets.append(h["secret"])
        alone, alone_q = _latencies(nstack, healthy, h["id"], _burst(nstack, 20))
        d = subscribe(nstack, dead.url, filters=issued)
        dead.secrets.append(d["secret"])
        healthy.note = dead.holding  # as each healthy delivery arrives: requests held open
        beside_subjects = _burst(nstack, 20)
        beside, beside_q = _latencies(nstack, healthy, h["id"], beside_subjects)
        # Causal, no clock bound: the healthy receiver got deliveries while a request to
        # the hanging one was held open (it holds each until the notifier's 3 s timeout
        # closes the connection; `holding` asks the kernel, so a close already sent
        # counts as closed), and got every one although the hanging one never answers.
        # A dispatcher sending to both endpoints in one lane would send nothing to the
        # healthy one while a request hangs.
        got = [r for r in healthy.accepted() if r.event["subject"] in beside_subjects]
        assert {r.event["subject"] for r in got} == set(beside_subjects)
        during = [r for r in got if r.noted]
        print(
            "\nhealthy receiver, n=20 each; ledger status → received: alone "
            f"p50 {_p(alone, 0.5):.3f}s p99 {_p(alone, 0.99):.3f}s, beside a never-answering "
            f"receiver p50 {_p(beside, 0.5):.3f}s p99 {_p(beside, 0.99):.3f}s; notifier queue → "
            f"received: alone p50 {_p(alone_q, 0.5):.3f}s p99 {_p(alone_q, 0.99):.3f}s, beside "
            f"p50 {_p(beside_q, 0.5):.3f}s p99 {_p(beside_q, 0.99):.3f}s"
        )
        print(f"{len(during)} of {len(got)} healthy deliveries arrived while one hung")
        assert during
        hung = until(
            lambda: [r for r in dead.received if r.event["subject"] in beside_subjects],
            lambda g: len(g) >= 4,
            30,
        )
        assert hung
        assert all(r.answered == HANG for r in hung)


def test_filters_hold(nstack: Stack) -> None:
    with receiving(Receiver()) as incentives, receiving(Receiver()) as revocations:
        a = subscribe(nstack, incentives.url, filters={"list_types": [bodies.RED]})
        b = subscribe(
            nstack,
            revocations.url,
            filters={"event_types": ["jsb.designation.revoked"], "polarity": "sanction"},
        )
        incentives.secrets.append(a["secret"])
        revocations.secrets.append(b["secret"])
        red, black = new_uscc(), new_uscc()
        designate(nstack, bodies.incentive(red))
        did = designate(nstack, bodies.designation(black))["designation_id"]
        with nstack.client("initiator", as_="tax") as c:
            r = c.post(f"/v1/designations/{did}/revocation", json={"reason": "认定错误"})
            assert r.status_code in (200, 201), r.text
        got = until(lambda: _of(revocations, black), lambda g: len(g) == 1, 60)
        until(lambda: _of(incentives, red), lambda g: len(g) >= 1, 60)
        time.sleep(2)
        assert {r.event["subject"] for r in incentives.accepted()} == {red}
        assert {r.event["subject"] for r in revocations.accepted()} == {black}
        states = [d["state"] for d in got[0].event["data"]["designations"]]
        assert states == ["revoked"]
        assert all(r.verified for r in incentives.received + revocations.received)


def test_a_rotated_secret_verifies_during_the_overlap_and_the_old_one_fails_after(
    nstack: Stack,
) -> None:
    issued = {"event_types": ["jsb.designation.issued"]}
    with receiving(Receiver()) as rx:
        sub = subscribe(nstack, rx.url, filters=issued)
        old = sub["secret"]
        with nstack.client("notifier", as_="ops") as c:
            r = c.post(f"/v1/subscriptions/{sub['id']}/secret/rotate")
        assert r.status_code == 200, r.text
        new = r.json()["secret"]
        assert new != old
        assert new.startswith("whsec_")
        rx.secrets.extend([old, new])
        during = new_uscc()
        designate(nstack, bodies.designation(during))
        [d] = until(lambda: _of(rx, during), lambda g: len(g) == 1, 30)
        assert rx.verifies(d, old)
        assert rx.verifies(d, new)
        time.sleep(7)  # the overlap is 6 s in this stack
        after = new_uscc()
        designate(nstack, bodies.designation(after))
        [a] = until(lambda: _of(rx, after), lambda g: len(g) == 1, 30)
        assert rx.verifies(a, new)
        assert not rx.verifies(a, old)
        with nstack.client("notifier", as_="ops") as c:
            listed = c.get(f"/v1/subscriptions/{sub['id']}").json()
        assert "secret" not in listed


def test_killing_the_notifier_mid_delivery_loses_nothing(nstack: Stack) -> None:
    issued = {"event_types": ["jsb.designation.issued"]}

    slow_started: list[float] = []

    def slow(_id: str, _n: int) -> int:
        slow_started.append(time.time())
        time.sleep(2.0)  # long enough to be killed in the middle of it
        return 200

    with receiving(Receiver(behaviour=slow)) as rx:
        sub = subscribe(nstack, rx.url, filters=issued)
        rx.secrets.append(sub["secret"])
        subjects = _burst(nstack, 12)
        until(lambda: len(slow_started), lambda n: n >= 1, 60)
        time.sleep(0.3)
        notifier = nstack.services["notifier"]
        notifier.kill()
        more = _burst(nstack, 4)  # published while the notifier is down
        notifier.start(wait=False)
        notifier.wait_ready(timeout_s=180)
        everyone = subjects + more
        got = until(
            lambda: {r.event["subject"] for r in rx.accepted()}, lambda s: set(everyone) <= s, 90
        )
        assert set(everyone) <= got
        rows = [
            d for s in everyone for d in deliveries(nstack, subscription=sub["id"], subject_id=s)
        ]
        assert len(rows) == len(everyone)
        assert {d["state"] for d in rows} == {"delivered"}
        # a duplicate after the crash carries the same webhook-id
        ids = [r.webhook_id for r in rx.received]
        assert set(ids) == {d["webhook_id"] for d in rows}
        assert all(r.verified for r in rx.received)
        print(f"\nafter SIGKILL: {len(ids)} requests for {len(set(ids))} messages")
        assert len(ids) > len(set(ids))  # the one in flight was sent again, with its id


def test_an_endpoint_that_stays_down_is_disabled_then_enable_and_recover_resend_in_order(
    nstack: Stack,
) -> None:
    since = datetime.now(UTC).isoformat()
    down = {"on": True}
    with receiving(Receiver()) as witness:  # older history: logged before `sub` existed
        seen = subscribe(nstack, witness.url, filters={"event_types": ["jsb.designation.issued"]})
        witness.secrets.append(seen["secret"])
        older = new_uscc()
        designate(nstack, bodies.designation(older))
        until(lambda: _of(witness, older), bool, 60)
        with nstack.client("notifier", as_="ops") as c:
            c.delete(f"/v1/subscriptions/{seen['id']}")
    with receiving(Receiver(behaviour=lambda _i, _n: 503 if down["on"] else 200)) as rx:
        sub = subscribe(nstack, rx.url, contact="tax")
        rx.secrets.append(sub["secret"])
        first = new_uscc()
        designate(nstack, bodies.designation(first))
        # The endpoint must still be asked after it has failed for the disable window
        # (JSB_NOTIFIER_DISABLE_AFTER_S, 4 s here). `first` alone may bring a single
        # status — the ledger publishes one per projection, its issue and its answers
        # together — whose six attempts can all fall within 4 s (backoff 0.3-2 s with
        # jitter): then nothing is attempted after the window and nothing disables it.
        time.sleep(4.5)
        designate(nstack, bodies.designation(new_uscc()))
        with nstack.client("notifier", as_="ops") as c:
            disabled = until(
                lambda: c.get(f"/v1/subscriptions/{sub['id']}").json(),
                lambda s: s["state"] == "disabled",
                60,
            )
            assert disabled["disabled_reason"]
            ops = c.get("/v1/notices", params={"kind": "endpoint_disabled"}).json()
        assert any(
            n["details"]["subscription_id"] == sub["id"] and n["recipient"] == "ops" for n in ops
        )
        with nstack.client("notifier", as_="tax") as c:
            mine = c.get("/v1/notices", params={"kind": "endpoint_disabled"}).json()
        assert any(n["details"]["subscription_id"] == sub["id"] for n in mine)
        missed = [new_uscc(), new_uscc()]
        for s in missed:
            designate(nstack, bodies.designation(s))
        subjects = [first, *missed]
        for s in subjects:
            until(lambda s=s: _history(nstack, s), bool, 60)
        time.sleep(3)
        for s in missed:  # queued while disabled, held (never sent) until enabled
            held = until(
                lambda s=s: deliveries(nstack, subscription=sub["id"], subject_id=s), bool, 60
            )
            assert {d["state"] for d in held} == {"held"}, held
        down["on"] = False
        with nstack.client("notifier", as_="ops") as c:
            assert c.post(f"/v1/subscriptions/{sub['id']}/enable").json()["state"] == "enabled"
            r = c.post(f"/v1/subscriptions/{sub['id']}/recover", json={"since": since})
            assert r.status_code == 200, r.text
            assert r.json()["queued"] >= 1  # `older`: enable released the rest already
        until(lambda: _of(rx, older), bool, 60)
        for s in subjects:
            done = _settled(nstack, sub["id"], s)
            assert {d["state"] for d in done} == {"delivered"}, done
            got = until(lambda s=s: _of(rx, s), lambda g, n=len(done): len(g) == n, 30)
            in_order = [d["webhook_id"] for d in sorted(done, key=lambda d: d["position"])]
            assert [r.webhook_id for r in got] == in_order
        assert all(r.verified for r in rx.received)


def test_subscription_urls_are_checked(nstack: Stack) -> None:
    with nstack.client("notifier", as_="ops") as c:
        for url in ("ftp://example.org/x", "http://example.org/hook", "https://10.1.2.3/hook"):
            r = c.post("/v1/subscriptions", json={"name": "x", "url": url})
            assert r.status_code == 422, (url, r.text)
            assert r.headers["content-type"].startswith("application/problem+json")
    with nstack.client("notifier", as_="tax") as c:
        assert (
            c.post("/v1/subscriptions", json={"name": "x", "url": "https://a.b"}).status_code == 403
        )


def test_a_retried_create_answers_the_same_and_keeps_no_secret_in_clear(nstack: Stack) -> None:
    body = {"name": "tax system", "url": "https://127.0.0.1:9/hook"}
    headers = {"Idempotency-Key": "create-" + new_uscc()}
    with nstack.client("notifier", as_="ops") as c:
        first = c.post("/v1/subscriptions", json=body, headers=headers)
        again = c.post("/v1/subscriptions", json=body, headers=headers)
        other = c.post("/v1/subscriptions", json={**body, "name": "x"}, headers=headers)
        c.delete(f"/v1/subscriptions/{first.json()['id']}")
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert first.json()["secret"].startswith("whsec_")
    assert other.status_code == 422  # the key answered a different request
    stored = _stored_answers(nstack)
    assert stored
    assert first.json()["secret"] not in stored


def _stored_answers(stack: Stack) -> str:
    import asyncio

    from sqlalchemy import select

    from services.notifier import tables
    from shared.adapters.db import make_engine

    async def run() -> str:
        engine = make_engine(stack.infra.database_url, schema="notifier" + stack.schema_suffix)
        try:
            async with engine.connect() as conn:
                rows = await conn.scalars(select(tables.idempotency.c.response))
                return " ".join(str(r) for r in rows)
        finally:
            await engine.dispose()

    return asyncio.run(run())
