"""Poison and oversized records on every topic the services consume (issue 13 part
4): malformed JSON, a wrong schema, an unknown type, a NUL character, a 5 MB record,
a valid event under a key that is not its subject, a tombstone. Each lands in
jsb.deadletter.v1 once per consumer group that read it, with its reason and origin
(topic, partition, offset, consumer group); consumption goes on; `jsb deadletter
list` shows them with identity numbers masked and `jsb deadletter replay` re-drives
the wrong-keyed event under its subject, applied once however often it is replayed.
"""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from uuid import uuid4

import pytest
from typer.testing import CliRunner

from shared.adapters.topics import DESIGNATIONS, FEEDBACK, MAX_EVENT_BYTES, STATUS
from shared.cli.main import app
from shared.domain.envelope import Envelope
from tests.support.feedback_items import executed
from tests.support.ledger_events import Script, feedback
from tests.support.ledger_harness import read_topic
from tests.support.notifier_receiver import Receiver, receiving
from tests.support.notifier_stack import subscribe
from tests.support.poll import until
from tests.support.raw_kafka import Raw, dead_letters, produce_raw
from tests.support.responder_flows import designate, history
from tests.support.stack import Stack
from tests.support.subjects import new_resident_id, new_uscc

pytestmark = pytest.mark.e2e

CONSUMERS = {
    DESIGNATIONS: {"ledger.designations", "responder"},
    FEEDBACK: {"ledger.feedback"},
    STATUS: {"notifier"},
}
"""Which consumer groups read each topic (as `jsb.<service><suffix>[.<lane>]`)."""


def group_of(stack: Stack, short: str) -> str:
    service, _, lane = short.partition(".")
    return f"jsb.{service}{stack.topic_suffix}" + (f".{lane}" if lane else "")


def big(subject: str) -> bytes:
    """A 5 MB record that is otherwise a well-formed JSON envelope."""
    head = {"specversion": "1.0", "id": str(uuid4()), "type": "jsb.designation.issued"}
    body = json.dumps({**head, "subject": subject, "data": {"pad": "x" * (5 * 1024 * 1024)}})
    return body.encode()


def jsb(*args: str, stack: Stack) -> str:
    """`jsb …` in this process (the command's own code; a fresh interpreter spends a
    minute importing on the loaded shared machine)."""
    env = {"KAFKA_BOOTSTRAP_SERVERS": stack.infra.kafka, "JSB_TOPIC_SUFFIX": stack.topic_suffix}
    done = CliRunner().invoke(app, list(args), env=env)
    assert done.exit_code == 0, (done.output, done.exception)
    return done.stdout


def test_poison_on_every_topic_is_dead_lettered_and_consumption_goes_on(stack: Stack) -> None:
    receiver = Receiver()
    with receiving(receiver):
        receiver.secrets.append(subscribe(stack, receiver.url)["secret"])
        # A real status record to misuse on the status topic.
        first = new_uscc()
        designate(stack, first, "tax.major-violation")
        status = until(
            lambda: [
                r
                for r in asyncio.run(read_topic(stack.infra, STATUS + stack.topic_suffix))
                if r.key == first.encode()
            ],
            bool,
            timeout_s=60,
        )[0].value

        s = Script(new_uscc())
        issued = s.issue()
        person = new_resident_id()
        unknown = issued.model_copy(update={"type": "jsb.designation.teleported"})
        invalid = Envelope(
            type="jsb.designation.issued",
            source="/x",
            subject=person,
            time=issued.time,
            data={"subject_id": person, "note": f"持证人 {person}"},
        )
        fb = feedback(Script(new_uscc()).issue(), only=1)[0]
        fb_nul = fb.model_copy(update={"data": {**fb.data, "note": "a\x00b"}, "id": uuid4()})
        status_env = Envelope.from_json_bytes(status)
        bad_status = status_env.model_copy(update={"data": {"nonsense": 1}, "id": uuid4()})
        odd_status = status_env.model_copy(update={"type": "jsb.status.teleported", "id": uuid4()})
        nul_status = status_env.model_copy(
            update={"data": {**status_env.data, "names": ["a\x00b"]}, "id": uuid4()}
        )
        nul_issue = s.issue(reason="a\x00b")
        poison: list[Raw] = [
            (DESIGNATIONS, b"p", b"{not json"),
            (DESIGNATIONS, person.encode(), invalid.to_json_bytes()),
            (DESIGNATIONS, issued.subject.encode(), unknown.to_json_bytes()),
            (DESIGNATIONS, s.subject_id.encode(), nul_issue.to_json_bytes()),
            (DESIGNATIONS, b"big", big(s.subject_id)),
            (DESIGNATIONS, b"not-the-subject", issued.to_json_bytes()),
            (FEEDBACK, b"p", b"[1, 2"),
            (FEEDBACK, fb.subject.encode(), fb_nul.to_json_bytes()),
            (FEEDBACK, fb.subject.encode(), unknown.to_json_bytes()),
            (FEEDBACK, b"big", big(fb.subject)),
            (FEEDBACK, b"not-the-subject", fb.to_json_bytes()),
            (STATUS, b"p", b"\xff\xfe"),
            (STATUS, first.encode(), bad_status.to_json_bytes()),
            (STATUS, first.encode(), odd_status.to_json_bytes()),
            (STATUS, first.encode(), nul_status.to_json_bytes()),
            (STATUS, first.encode(), None),
            (STATUS, b"big", big(first)),
            (STATUS, b"not-the-subject", status),
        ]
        assert len(big(first)) > MAX_EVENT_BYTES
        produce_raw(stack, poison)

        # Consumption goes on: a designation made after the poison flows everywhere.
        after = new_uscc()
        designate(stack, after, "tax.major-violation")
        until(lambda: len(history(stack, after)) >= 1, bool, timeout_s=90)
        until(
            lambda: [r for r in receiver.accepted() if after.encode() in r.body],
            bool,
            timeout_s=90,
        )

    expected = sum(len(CONSUMERS[topic]) for topic, _, _ in poison)
    try:
        letters = until(lambda: dead_letters(stack), lambda ds: len(ds) >= expected, timeout_s=90)
    except AssertionError:
        letters = dead_letters(stack)  # the comparison below says which are missing
    by_origin: dict[tuple[str, bytes], set[str]] = defaultdict(set)
    for d in letters:
        h = d.headers
        assert h["jsb-source-partition"].isdigit()
        assert h["jsb-source-offset"].isdigit()
        assert d.reason, d
        by_origin[(d.source_topic, d.value)].add(h["jsb-consumer-group"])
    missing = [
        (topic, key, (value or b"")[:120], by_origin[(topic + stack.topic_suffix, value or b"")])
        for topic, key, value in poison
        if by_origin[(topic + stack.topic_suffix, value or b"")]
        != {group_of(stack, g) for g in CONSUMERS[topic]}
    ]
    assert not missing, missing
    assert len(letters) == expected, [(d.source_topic, d.reason) for d in letters]

    reasons = {(d.source_topic.split(".v1")[0], d.key): d.reason for d in letters}
    assert "too large" in reasons[("jsb.designations", "big")]
    assert "too large" in reasons[("jsb.status", "big")]
    assert "wrong key" in reasons[("jsb.designations", "not-the-subject")]
    assert "wrong key" in reasons[("jsb.feedback", "not-the-subject")]
    assert "wrong key" in reasons[("jsb.status", "not-the-subject")]
    # Nothing of the poison was applied.
    assert history(stack, s.subject_id) == []


def test_deadletter_list_masks_and_replay_applies_once(stack: Stack) -> None:
    s = Script(new_uscc())
    issued = s.issue()
    person = new_resident_id()
    invalid = Envelope(
        type="jsb.designation.issued",
        source="/x",
        subject=person,
        time=issued.time,
        data={"subject_id": person, "note": f"持证人 {person}，护照 E12345678"},
    )
    produce_raw(
        stack,
        [
            (DESIGNATIONS, b"wrong", issued.to_json_bytes()),
            (DESIGNATIONS, person.encode(), invalid.to_json_bytes()),
        ],
    )
    until(
        lambda: [d for d in dead_letters(stack) if d.key in ("wrong", person)],
        lambda ds: len(ds) >= 4,  # two records, two consumer groups
        timeout_s=90,
    )

    table = jsb("deadletter", "list", stack=stack)
    listed = json.loads(jsb("deadletter", "list", "--format", "json", stack=stack))
    assert person not in table
    assert person not in json.dumps(listed, ensure_ascii=False)
    mine = [d for d in listed if d["key"] == person[:6] + "********" + person[-4:]]
    assert len(mine) == 2
    assert {d["origin"]["topic"] for d in mine} == {DESIGNATIONS + stack.topic_suffix}
    assert {d["origin"]["consumer_group"] for d in mine} == {
        group_of(stack, "ledger.designations"),
        group_of(stack, "responder"),
    }
    assert all(d["value"]["subject"] != person for d in mine)
    assert "E12345678" not in json.dumps(listed, ensure_ascii=False)
    only_keys = json.loads(
        jsb("deadletter", "list", "--format", "json", "--reason", "WRONG KEY", stack=stack)
    )
    assert {d["key"] for d in only_keys} >= {"wrong"}
    assert all("wrong key" in d["reason"] for d in only_keys)
    assert history(stack, s.subject_id) == []

    refs = [d["ref"] for d in only_keys if d["key"] == "wrong"]
    for _ in range(2):  # replayed twice (each of its two dead letters): applied once
        out = jsb("deadletter", "replay", "--rekey", *refs, stack=stack)
        assert out.strip().endswith(f"{len(refs)} replayed")
    until(lambda: history(stack, s.subject_id), bool, timeout_s=90)
    # the ledger's consumer has read every replayed copy: 4 copies, 1 event
    later = Script(new_uscc())
    produce_raw(stack, [(DESIGNATIONS, later.subject_id.encode(), later.issue().to_json_bytes())])
    until(lambda: history(stack, later.subject_id), bool, timeout_s=90)
    events = history(stack, s.subject_id)
    issues = [e["event_id"] for e in events if e["type"] == "jsb.designation.issued"]
    assert issues == [str(issued.id)]
    done = executed(events)
    assert set(done.values()) <= {1}, done  # its tasks executed once, not 4 times
