"""Which topics the end of a test session deletes: only those named with an id this
session issued, never a production topic nor another run's."""

from tests.support.topic_cleanup import TEST_SCHEMA, TEST_TOPIC, issued_by


def test_only_topics_named_with_an_issued_id_are_chosen() -> None:
    names = [
        "jsb.designations.v1",
        "jsb.status.v1",
        "jsb.status.v1.e2eaa11bb22",
        "jsb.feedback.v1.e2eaa11bb22",
        "jsb.feedback.v1.t0011aabb",
        "bench.pipeline.tcafe0001",
        "__consumer_offsets",
        "jsb.status.v1.xe2eaa11bb22",
    ]
    assert issued_by(names, {"e2eaa11bb22", "tcafe0001"}) == [
        "bench.pipeline.tcafe0001",
        "jsb.feedback.v1.e2eaa11bb22",
        "jsb.status.v1.e2eaa11bb22",
    ]


def test_the_sweep_pattern_never_matches_a_production_topic() -> None:
    from shared.adapters.topics import TOPICS

    assert not [t.name for t in TOPICS if TEST_TOPIC.match(t.name)]
    assert TEST_TOPIC.match("jsb.deadletter.v1.tdead1ff2")


def test_the_schema_sweep_takes_test_stacks_schemas_only() -> None:
    from shared.adapters.migrations import SERVICES

    assert not [s for s in SERVICES if TEST_SCHEMA.match(s)]  # the services' own schemas
    assert not TEST_SCHEMA.match("public")
    assert not TEST_SCHEMA.match("pg_toast")
    assert not TEST_SCHEMA.match('ledger_x"; DROP')
    assert TEST_SCHEMA.match("ledger_e2e0dc98500")
    assert TEST_SCHEMA.match("notifier_rsp39921279")
