"""One abstract contract test suite per port (the shape of pyeventsourcing's recorder
test cases and FastStream's broker test cases): each class here is subclassed once
per adapter — in memory in tests/unit/test_memory_adapters.py, on Postgres (or over
HTTP) in tests/integration/test_postgres_adapters.py — and the subclass only says
how to build its adapter. The classes here are not collected on their own (their
names do not start with Test)."""
