"""Hostile HTTP input (issue 13, part 5): a table of hand-written bad requests to every
service — bad checksums, impossible dates, periods ending before they start, unknown
enums, oversized and deeply nested bodies, SQL and script fragments, mixed-width and
control characters, duplicate keys, wrong content types — each answered 4xx with an
RFC 9457 problem naming the bad field, and nothing written: the end offsets of the
stack's topics and the row counts of its event, outbox and task tables are the same
before and after."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from shared.adapters.topics import TOPICS
from shared.web.auth import AUDITOR, OPS
from shared.web.limits import MAX_BODY_BYTES
from tests.reliability.sec_stack import World, world  # noqa: F401
from tests.support import initiator_bodies as bodies
from tests.support.ledger_harness import _partitions
from tests.support.subjects import new_resident_id, new_uscc

pytestmark = pytest.mark.e2e

JSON = {"content-type": "application/json"}
DEEP = b"[" * 10_000 + b"]" * 10_000
TEN_MB = b'{"subject": {"id": "' + b"9" * 10_000_000 + b'"}}'
SQL = "1' OR '1'='1'; DROP TABLE events; --"
SCRIPT = "<script>alert(document.cookie)</script>"


def _bad_checksum(valid: str) -> str:
    last = valid[-1]
    return valid[:-1] + ("0" if last != "0" else "1")


def _designation(**overrides: Any) -> dict[str, Any]:
    return bodies.designation(new_uscc(), **overrides)


def _with_subject(subject_id: str) -> dict[str, Any]:
    body = bodies.designation()
    body["subject"] = {"id": subject_id, "name": "某某"}
    return body


@dataclass(frozen=True)
class Bad:
    name: str
    service: str
    method: str
    path: str
    status: int
    names: str | None = None
    """A field the problem must name (None: the request as a whole)."""
    as_: str = "tax"
    json: Any = None
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)


def table(w: World) -> list[Bad]:
    d = w.designation_id
    holder = w.task_department
    person = new_resident_id()
    on_d = f"/v1/designations/{d}"
    i, r, led, n = "initiator", "responder", "ledger", "notifier"
    post = "/v1/designations"

    def create(name: str, status: int, fld: str | None, **kw: Any) -> Bad:
        return Bad(name, i, "POST", post, status, fld, **kw)

    def subscribe(name: str, fld: str, body: dict[str, Any]) -> Bad:
        return Bad(name, n, "POST", "/v1/subscriptions", 422, fld, as_=OPS, json=body)

    return [
        # -- identifiers: checksums, dates inside them, SQL, script, width, control --
        create(
            "USCC bad checksum", 422, "subject.id", json=_with_subject(_bad_checksum(new_uscc()))
        ),
        create(
            "resident id bad checksum", 422, "subject.id", json=_with_subject(_bad_checksum(person))
        ),
        create(
            "resident id born on 30 February",
            422,
            "subject.id",
            json=_with_subject("110105199902301234"),
        ),
        create("subject id SQL", 422, "subject.id", json=_with_subject(SQL)),
        create("subject id script", 422, "subject.id", json=_with_subject(SCRIPT)),
        create("subject id NUL", 422, "subject.id", json=_with_subject(new_uscc()[:-1] + "\x00")),
        create(
            "subject id full-width digits, bad checksum",
            422,
            "subject.id",
            json=_with_subject("１１０１０５" + _bad_checksum(person)[6:]),
        ),
        create(
            "subject id zero-width space",
            422,
            "subject.id",
            json=_with_subject(new_uscc()[:9] + "\u200b" + new_uscc()[9:]),
        ),
        create("subject id empty", 422, "subject.id", json=_with_subject("")),
        create("subject id 10,000 characters", 422, "subject.id", json=_with_subject("9" * 10_000)),
        create(
            "related person bad checksum",
            422,
            "related_persons[0].id",
            json=_designation(
                related_persons=[
                    {"id": _bad_checksum(person), "name": "张三", "role": "legal_representative"}
                ]
            ),
        ),
        # -- dates and periods --
        create(
            "decided on 30 February", 422, "decided_at", json=_designation(decided_at="2026-02-30")
        ),
        create(
            "decided in month 13", 422, "decided_at", json=_designation(decided_at="2026-13-01")
        ),
        create("decided at a script", 422, "decided_at", json=_designation(decided_at=SCRIPT)),
        create(
            "period ending before it starts",
            422,
            "effective_until",
            json=_designation(
                effective_from="2026-06-01T00:00:00+08:00",
                effective_until="2026-01-01T00:00:00+08:00",
            ),
        ),
        create(
            "effective_from without a time zone",
            422,
            "effective_from",
            json=_designation(effective_from="2026-06-01T00:00:00"),
        ),
        # -- enums and catalogue codes --
        create(
            "unknown list type", 422, "list_type", json=_designation(list_type="tax.no-such-list")
        ),
        create("list type SQL", 422, "list_type", json=_designation(list_type=SQL)),
        create(
            "list type full-width",
            422,
            "list_type",
            json=_designation(list_type="ｔａｘ.major-violation"),
        ),
        create(
            "list type with a control character",
            422,
            "list_type",
            json=_designation(list_type="tax.major-violation\x07"),
        ),
        create("unknown level", 422, "level", json=_designation(level="apocalyptic")),
        create(
            "unknown measure", 422, "measures[0]", json=_designation(measures=["no.such.measure"])
        ),
        create("unknown field", 422, "is_admin", json=_designation(is_admin=True)),
        create(
            "reason missing",
            422,
            "reason",
            json={k: v for k, v in _designation().items() if k != "reason"},
        ),
        create("reason empty", 422, "reason", json=_designation(reason="")),
        create("subject a string", 422, "subject", json=_designation(subject="91350100M000100Y43")),
        create("body an array", 422, None, json=[_designation()]),
        create("body null", 422, None, json=None, content=b"null", headers=JSON),
        # -- the body itself --
        create("malformed JSON", 422, None, content=b'{"subject": {"id": ', headers=JSON),
        create(
            "duplicate key",
            422,
            "list_type",
            headers=JSON,
            content=b'{"list_type": "tax.major-violation", "list_type": "court.dishonest-debtor"}',
        ),
        create("10,000-deep JSON", 422, "body", content=DEEP, headers=JSON),
        create("10 MB body", 413, "body", content=TEN_MB, headers=JSON),
        create(
            "text/plain",
            415,
            "Content-Type",
            content=json.dumps(_designation()).encode(),
            headers={"content-type": "text/plain"},
        ),
        create(
            "form-urlencoded",
            415,
            "Content-Type",
            content=b"subject=x&list_type=y",
            headers={"content-type": "application/x-www-form-urlencoded"},
        ),
        create(
            "XML",
            415,
            "Content-Type",
            content=b"<designation/>",
            headers={"content-type": "application/xml"},
        ),
        create(
            "Idempotency-Key of 201 characters",
            422,
            "Idempotency-Key",
            json=_designation(),
            headers={"Idempotency-Key": "k" * 201},
        ),
        # -- batch --
        Bad(
            "batch empty",
            i,
            "POST",
            post + "/batch",
            422,
            "designations",
            json={"designations": []},
        ),
        Bad(
            "batch of 10,001",
            i,
            "POST",
            post + "/batch",
            422,
            "designations",
            json={"designations": [{}] * 10_001},
        ),
        Bad(
            "batch not a list",
            i,
            "POST",
            post + "/batch",
            422,
            "designations",
            json={"designations": "all"},
        ),
        Bad(
            "batch 10,000-deep", i, "POST", post + "/batch", 422, "body", content=DEEP, headers=JSON
        ),
        # -- corrections --
        Bad("revocation without reason", i, "POST", f"{on_d}/revocation", 422, "reason", json={}),
        Bad(
            "amendment to an unknown level",
            i,
            "POST",
            f"{on_d}/amendments",
            422,
            "changes.level",
            json={"changes": {"level": "bogus"}, "reason": "x"},
        ),
        Bad(
            "objection raised by a martian",
            i,
            "POST",
            f"{on_d}/objections",
            422,
            "raised_by",
            json={"raised_by": "martian", "grounds": "x"},
        ),
        Bad(
            "resolution maybe",
            i,
            "POST",
            f"/v1/objections/{w.objection_id}/resolution",
            422,
            "outcome",
            json={"outcome": "maybe"},
        ),
        Bad(
            "designation id not a UUID",
            i,
            "POST",
            "/v1/designations/not-a-uuid/revocation",
            422,
            "designation_id",
            json={"reason": "x"},
        ),
        Bad(
            "designation id SQL",
            i,
            "POST",
            "/v1/designations/1' OR 1=1 --/repair",
            422,
            "designation_id",
            json={},
        ),
        Bad(
            "revocation of no designation",
            i,
            "POST",
            "/v1/designations/00000000-0000-4000-8000-000000000000/revocation",
            404,
            "designation_id",
            json={"reason": "x"},
        ),
        # -- responder --
        Bad(
            "check of a bad checksum",
            r,
            "POST",
            "/v1/checks",
            422,
            "subject_id",
            as_=holder,
            json={"subject_id": _bad_checksum(new_uscc())},
        ),
        Bad(
            "check of nobody",
            r,
            "POST",
            "/v1/checks",
            422,
            "subject_id",
            as_=holder,
            json={"subject_id": ""},
        ),
        Bad(
            "check of a script",
            r,
            "POST",
            "/v1/checks",
            422,
            "subject_id",
            as_=holder,
            json={"subject_id": SCRIPT},
        ),
        Bad(
            "check measure of 201 characters",
            r,
            "POST",
            "/v1/checks",
            422,
            "measure",
            as_=holder,
            json={"subject_id": w.subject_id, "measure": "m" * 201},
        ),
        Bad(
            "check with duplicate subject",
            r,
            "POST",
            "/v1/checks",
            422,
            "subject_id",
            as_=holder,
            headers=JSON,
            content=json.dumps({"subject_id": new_uscc()})[:-1].encode()
            + b', "subject_id": "'
            + w.subject_id.encode()
            + b'"}',
        ),
        Bad(
            "check as text/plain",
            r,
            "POST",
            "/v1/checks",
            415,
            "Content-Type",
            as_=holder,
            content=b"subject_id=1",
            headers={"content-type": "text/plain"},
        ),
        Bad(
            "check 10 MB",
            r,
            "POST",
            "/v1/checks",
            413,
            "body",
            as_=holder,
            content=TEN_MB,
            headers=JSON,
        ),
        Bad(
            "check 10,000-deep",
            r,
            "POST",
            "/v1/checks",
            422,
            "body",
            as_=holder,
            content=DEEP,
            headers=JSON,
        ),
        Bad(
            "feedback maybe",
            r,
            "POST",
            f"/v1/tasks/{w.task_id}/feedback",
            422,
            "outcome",
            as_=holder,
            json={"outcome": "maybe"},
        ),
        Bad(
            "tasks in a bogus state",
            r,
            "GET",
            "/v1/tasks",
            422,
            "state",
            as_=holder,
            params={"state": "bogus"},
        ),
        Bad(
            "tasks limit 0", r, "GET", "/v1/tasks", 422, "limit", as_=holder, params={"limit": "0"}
        ),
        Bad("task id SQL", r, "GET", f"/v1/tasks/{SQL}", 422, "task_id", as_=holder),
        # -- ledger --
        Bad(
            "status as of 30 February",
            led,
            "GET",
            f"/v1/subjects/{w.subject_id}/status",
            422,
            "as_of",
            as_=AUDITOR,
            params={"as_of": "2026-02-30T00:00:00Z"},
        ),
        Bad(
            "changes after -1",
            led,
            "GET",
            "/v1/changes",
            422,
            "after",
            as_=AUDITOR,
            params={"after": "-1"},
        ),
        Bad(
            "changes limit 10^6",
            led,
            "GET",
            "/v1/changes",
            422,
            "limit",
            as_=AUDITOR,
            params={"limit": "1000000"},
        ),
        Bad(
            "status of a bad checksum",
            led,
            "GET",
            f"/v1/subjects/{_bad_checksum(new_uscc())}/status",
            422,
            "subject_id",
            as_=AUDITOR,
        ),
        Bad(
            "history of SQL",
            led,
            "GET",
            f"/v1/subjects/{SQL}/history",
            422,
            "subject_id",
            as_=AUDITOR,
        ),
        Bad(
            "public list unknown",
            led,
            "GET",
            "/v1/public/lists/no.such.list",
            404,
            "list_type",
            as_=AUDITOR,
        ),
        Bad(
            "daily for 100,000 days",
            led,
            "GET",
            "/v1/stats/designations/daily",
            422,
            "days",
            as_=AUDITOR,
            params={"days": "100000"},
        ),
        Bad(
            "changes after 2^70",
            led,
            "GET",
            "/v1/changes",
            422,
            "after",
            as_=AUDITOR,
            params={"after": str(2**70)},
        ),
        Bad(
            "public list from offset 2^70",
            led,
            "GET",
            f"/v1/public/lists/{bodies.TAX}",
            422,
            "offset",
            as_=AUDITOR,
            params={"offset": str(2**70)},
        ),
        # -- notifier --
        subscribe("subscription to ftp", "url", {"name": "x", "url": "ftp://example.com/hook"}),
        subscribe(
            "subscription to a private address", "url", {"name": "x", "url": "http://10.0.0.1/hook"}
        ),
        subscribe(
            "subscription rate -1",
            "rate_limit_per_s",
            {"name": "x", "url": "https://example.com/h", "rate_limit_per_s": -1},
        ),
        subscribe("subscription without a name", "name", {"url": "https://example.com/h"}),
        Bad(
            "subscription 10,000-deep",
            n,
            "POST",
            "/v1/subscriptions",
            422,
            "body",
            as_=OPS,
            content=DEEP,
            headers=JSON,
        ),
        Bad(
            "report for month 13",
            n,
            "GET",
            "/v1/reports/monthly",
            422,
            "month",
            as_=OPS,
            params={"month": "2026-13"},
        ),
        # found by schemathesis: ids past PostgreSQL's bigint were a 500
        Bad(
            "retry of delivery 2^70",
            n,
            "POST",
            f"/v1/deliveries/{2**70}/retry",
            422,
            "delivery_id",
            as_=OPS,
        ),
        Bad(
            "deliveries after 2^70",
            n,
            "GET",
            "/v1/deliveries",
            422,
            "after",
            as_=OPS,
            params={"after": str(2**70)},
        ),
        Bad(
            "retry of delivery abc",
            n,
            "POST",
            "/v1/deliveries/abc/retry",
            422,
            "delivery_id",
            as_=OPS,
        ),
    ]


async def _end_offsets(w: World) -> dict[str, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=w.stack.infra.kafka)
    await consumer.start()
    try:
        names = {t.name + w.stack.topic_suffix for t in TOPICS}
        tps = [TopicPartition(n, p) for n in names for p in await _partitions(consumer, n)]
        assert {tp.topic for tp in tps} == names, "a topic of the stack has no partitions"
        ends = await consumer.end_offsets(tps)
        return {f"{tp.topic}[{tp.partition}]": o for tp, o in ends.items()}
    finally:
        await consumer.stop()


WRITTEN = {
    "initiator": ("lifecycle_events", "outbox", "timers", "designation_index", "idempotency_keys"),
    "responder": ("designation_events", "tasks", "checks", "outbox", "idempotency_keys"),
    "ledger": ("events", "outbox", "designations"),
    "notifier": ("subscriptions", "notices", "status_log", "outbox", "idempotency_keys"),
}


async def _row_counts(w: World) -> dict[str, int]:
    engine = create_async_engine(w.stack.infra.admin_url)
    counts: dict[str, int] = {}
    try:
        async with engine.connect() as conn:
            for service, tables in WRITTEN.items():
                schema = service + w.stack.schema_suffix
                present = set(
                    (
                        await conn.execute(
                            text(
                                "SELECT table_name FROM information_schema.tables "
                                "WHERE table_schema = :s"
                            ),
                            {"s": schema},
                        )
                    ).scalars()
                )
                for table_name in tables:
                    if table_name in present:
                        q = text(f'SELECT count(*) FROM "{schema}"."{table_name}"')
                        counts[f"{schema}.{table_name}"] = (await conn.execute(q)).scalar_one()
    finally:
        await engine.dispose()
    return counts


async def _written(w: World) -> dict[str, int]:
    return {**(await _end_offsets(w)), **(await _row_counts(w))}


async def _quiet(w: World) -> dict[str, int]:
    """The counts once the stack has settled (two readings a few seconds apart agree)."""
    last = await _written(w)
    for _ in range(30):
        await asyncio.sleep(3)
        now = await _written(w)
        if now == last:
            return now
        last = now
    raise AssertionError(f"the stack does not settle: {last}")


def _send(w: World, bad: Bad) -> httpx.Response:
    headers = {"Authorization": f"Bearer {w.tokens[bad.as_]}", **bad.headers}
    kwargs: dict[str, Any] = {"headers": headers, "params": bad.params}
    if bad.content is not None:
        kwargs["content"] = bad.content
    elif bad.json is not None:
        kwargs["json"] = bad.json
    with httpx.Client(base_url=w.stack.url(bad.service), timeout=120) as client:
        return client.request(bad.method, bad.path, **kwargs)


def test_the_table_has_at_least_fifty_requests_on_every_service(world: World) -> None:  # noqa: F811
    rows = table(world)
    assert len(rows) >= 50
    assert len({b.name for b in rows}) == len(rows)
    assert {b.service for b in rows} == {"initiator", "responder", "ledger", "notifier"}


async def test_every_bad_request_is_a_4xx_problem_naming_the_field_and_writes_nothing(
    world: World,  # noqa: F811
) -> None:
    before = await _quiet(world)
    counted = {k.split("[")[0] for k in before}
    for topic in TOPICS:  # every topic and every table counted, or the check proves nothing
        assert topic.name + world.stack.topic_suffix in counted
    for service, tables in WRITTEN.items():
        for table_name in tables:
            assert f"{service}{world.stack.schema_suffix}.{table_name}" in counted
    wrong: list[str] = []
    statuses: dict[int, int] = {}
    for bad in table(world):
        r = await asyncio.to_thread(_send, world, bad)
        statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
        problem = r.headers.get("content-type", "").startswith("application/problem+json")
        doc = r.json() if problem else {}
        fields = [e.get("field") for e in doc.get("errors", [])]
        if r.status_code != bad.status or not problem or doc.get("status") != r.status_code:
            wrong.append(f"{bad.name}: {r.status_code} {r.text[:300]!r}")
        elif bad.names is not None and bad.names not in fields:
            wrong.append(f"{bad.name}: {bad.names!r} not among {fields}")
    after = await _quiet(world)
    changed = {k: (before.get(k), v) for k, v in after.items() if before.get(k) != v}
    print(f"hostile table: {len(table(world))} requests, statuses {sorted(statuses.items())}")
    assert wrong == [], "\n".join(wrong)
    assert changed == {}, f"written by bad requests: {changed}"
    assert len(TEN_MB) > MAX_BODY_BYTES
