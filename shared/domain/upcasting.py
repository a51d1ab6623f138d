"""Upcasters: old event versions become the current one on read.

A stored event is never rewritten (the ledger is append-only and hash-chained): a
reader upcasts the payload in memory, one version at a step, with pure functions keyed
by (event type, from version). To change an event: bump its VERSION, register the
upcaster from the old version here, and keep a model of the old version in
LEGACY_MODELS so its JSON Schema stays published for consumers of old messages.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict

Payload = dict[str, Any]
Upcaster = Callable[[Payload], Payload]

UPCASTERS: dict[tuple[str, int], Upcaster] = {}


class MissingUpcaster(LookupError):
    """No path from a stored version to the current one."""


def upcaster(event_type: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
    """Register `fn` as the step from `from_version` to `from_version + 1`."""

    def register(fn: Upcaster) -> Upcaster:
        UPCASTERS[(event_type, from_version)] = fn
        return fn

    return register


def upcast(event_type: str, version: int, payload: Payload, target: int) -> Payload:
    """The payload at `target` version; the input is left untouched."""
    while version < target:
        step = UPCASTERS.get((event_type, version))
        if step is None:
            raise MissingUpcaster(f"no upcaster for {event_type} from version {version}")
        payload = step(payload)
        version += 1
    return payload


# --- jsb.designation.revoked: v1 → v2 ---------------------------------------------


class DesignationRevokedV1(BaseModel):
    """Version 1 (kept for its schema): `restore_credit` was renamed `restore_reputation`
    in version 2, the policy term (恢复名誉) the documents use."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    TYPE: ClassVar[str] = "jsb.designation.revoked"
    VERSION: ClassVar[int] = 1

    designation_id: UUID
    reason: str
    restore_credit: bool


@upcaster("jsb.designation.revoked", 1)
def _revoked_v1_to_v2(payload: Payload) -> Payload:
    renamed = {k: v for k, v in payload.items() if k != "restore_credit"}
    if "restore_credit" in payload:  # when absent, validation names the missing field
        renamed["restore_reputation"] = payload["restore_credit"]
    return renamed


# --- jsb.designation.issued: v1 → v2 ----------------------------------------------


@upcaster("jsb.designation.issued", 1)
def _issued_v1_to_v2(payload: Payload) -> Payload:
    """Version 2 adds the facts of the case and the tier of the listing (issue 9).
    A version-1 listing was decided without them: no facts, and (as the fold treated
    every sanction listing then) a joint-sanction target that is not record-only, so
    it folds to the same status as before."""
    return {
        **payload,
        "facts": payload.get("facts", {}),
        "joint_sanction": payload.get("joint_sanction", True),
        "record_only": payload.get("record_only", False),
    }


def _issued_v1_model() -> type[BaseModel]:
    """Version 1 of `DesignationIssued` (kept for its schema): version 2 without the
    fields it added, and related designations without their reach."""
    from pydantic import create_model

    from shared.domain.event_base import RelatedDesignation
    from shared.domain.lifecycle_events import DesignationIssued

    related_v1 = create_model(
        "RelatedDesignationV1",
        __config__=ConfigDict(frozen=True, extra="forbid"),
        **{
            name: (field.annotation, field)
            for name, field in RelatedDesignation.model_fields.items()
            if name not in ("reached", "not_reached")
        },  # type: ignore[call-overload]
    )
    fields: dict[str, Any] = {
        name: (field.annotation, field)
        for name, field in DesignationIssued.model_fields.items()
        if name not in ("facts", "joint_sanction", "record_only", "related_not_reached")
    }
    fields["related"] = (tuple[related_v1, ...], ())
    model = create_model(
        "DesignationIssuedV1",
        __config__=ConfigDict(frozen=True, extra="forbid"),
        **fields,
    )
    model.TYPE = "jsb.designation.issued"  # type: ignore[attr-defined]
    model.VERSION = 1  # type: ignore[attr-defined]
    return model


DesignationIssuedV1 = _issued_v1_model()

LEGACY_MODELS: tuple[type[BaseModel], ...] = (DesignationRevokedV1, DesignationIssuedV1)
