"""Task ids: derived from the designation, the measure and the department (uuid5), so
that a replay or a second instance names the same task."""

from __future__ import annotations

from hashlib import sha1
from uuid import NAMESPACE_URL, UUID, uuid5


def task_id(designation_id: UUID, measure: str, department: str) -> UUID:
    """Derived, so that a replay or a second instance names the same task."""
    return uuid5(NAMESPACE_URL, f"urn:jsb:task:{designation_id}:{measure}:{department}")


class TaskIds:
    """`task_id` of one designation's tasks, each the same UUID: the hash of what they
    share (the namespace and the designation) is taken once and continued per task.
    Why: a court designation has 48 tasks, and `uuid5` per task (formatting the
    designation id and hashing the whole name again) was 6 % of the responder's
    busy samples in the pipeline bench at 300 debtors (py-spy, docs/benchmarks.md
    "third pass"): ~4.3 us a call against ~1.6 us this way."""

    __slots__ = ("_shared",)

    def __init__(self, designation_id: UUID) -> None:
        self._shared = sha1(  # noqa: S324 - uuid5's own hash (RFC 4122), not a secret
            NAMESPACE_URL.bytes + f"urn:jsb:task:{designation_id}:".encode()
        )

    def of(self, measure: str, department: str) -> UUID:
        digest = self._shared.copy()
        digest.update(f"{measure}:{department}".encode())
        return UUID(bytes=digest.digest()[:16], version=5)
