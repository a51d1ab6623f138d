"""A subject's folded state as bytes and back, for snapshots stored beside the events
(services/ledger/snapshot_store.py): a read or a refresh of a long stream starts from
the decoded state and folds only the events after it.

Lossless: `decode(encode(s)) == s` and its status renders to the same bytes, and
folding further events into the decoded state equals folding them all from scratch
(tests/unit/test_state_codec.py, over the fold's random histories). How: msgspec's
JSON, typed by the state's own dataclasses (their datetimes keep their UTC offset,
enums their members), with the events' pydantic models inside (the designation as
issued and amended, a correction's changes) serialised and validated by pydantic.

Never misread: the bytes start with a tag, `state_tag()`, derived from the shape of
every type the state holds (each dataclass's fields and their types, each enum's
values, each pydantic model's JSON schema) and from `FOLD_REVISION`. A snapshot
written by code whose state differs in any of these decodes to None (ignored, and
written again by the next refresh), as do bytes that do not parse into the state.
The shape cannot say when a fold *rule* changes what the same events fold to: that
is `FOLD_REVISION`'s job, bumped with such a change (tests/unit/test_state_codec.py
pins the fold modules' source to the revision, so a change of them asks for it).
"""

from __future__ import annotations

import dataclasses
import enum
import hashlib
import json
import typing
from functools import cache
from typing import Any
from uuid import UUID

import msgspec
from pydantic import BaseModel

from shared.domain.fold_state import DesignationRecord, SubjectState, TaskFeedback

FOLD_REVISION = 1
"""Bump when a change of the fold's rules (shared/domain/fold*.py) makes the same
events fold to another state: snapshots written before are then ignored."""

FORMAT = "jsb-state/1"
"""The layout below (`_Wire`)."""


class _Wire(msgspec.Struct, array_like=True):
    subject_id: str | None
    designations: list[DesignationRecord]
    """In the order they were issued (the state's own order)."""
    feedback: list[tuple[UUID, str, str, TaskFeedback]]
    """(designation, measure, department, feedback): JSON keys are strings only."""


def _enc_hook(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return msgspec.Raw(value.__pydantic_serializer__.to_json(value))
    raise NotImplementedError(type(value).__name__)


def _dec_hook(kind: type, value: Any) -> Any:
    if isinstance(kind, type) and issubclass(kind, BaseModel):
        return kind.model_validate(value)
    raise NotImplementedError(kind.__name__)


_ENCODER = msgspec.json.Encoder(enc_hook=_enc_hook)
_DECODER = msgspec.json.Decoder(_Wire, dec_hook=_dec_hook)


@cache
def state_tag() -> bytes:
    """The version tag every encoded state starts with (module docstring)."""
    shapes: dict[str, Any] = {}
    _shape(SubjectState, shapes)
    described = json.dumps([FORMAT, FOLD_REVISION, shapes], sort_keys=True, default=str)
    return hashlib.sha256(described.encode()).hexdigest()[:24].encode() + b":"


def _shape(kind: Any, shapes: dict[str, Any]) -> None:
    """Describe `kind` and every type it holds into `shapes` (by qualified name)."""
    for arg in typing.get_args(kind):
        _shape(arg, shapes)
    if not isinstance(kind, type):
        return
    name = f"{kind.__module__}.{kind.__qualname__}"
    if name in shapes:
        return
    if issubclass(kind, BaseModel):
        shapes[name] = kind.model_json_schema()
    elif issubclass(kind, enum.Enum):
        shapes[name] = sorted(str(m.value) for m in kind)
    elif dataclasses.is_dataclass(kind):
        hints = typing.get_type_hints(kind)
        shapes[name] = [(f.name, repr(hints[f.name])) for f in dataclasses.fields(kind)]
        for f in dataclasses.fields(kind):
            _shape(hints[f.name], shapes)


def encode_state(state: SubjectState) -> bytes:
    wire = _Wire(
        state.subject_id,
        list(state.designations.values()),
        [(d, m, dept, f) for (d, m, dept), f in state.feedback.items()],
    )
    return state_tag() + _ENCODER.encode(wire)


def decode_state(data: bytes) -> SubjectState | None:
    """The state `encode_state` gave these bytes, or None when they are another
    version's or do not parse (the caller folds from the events instead)."""
    tag = state_tag()
    if not data.startswith(tag):
        return None
    try:
        wire = _DECODER.decode(memoryview(data)[len(tag) :])
    except (msgspec.MsgspecError, ValueError):
        return None
    return SubjectState(
        subject_id=wire.subject_id,
        designations={r.designation_id: r for r in wire.designations},
        feedback={(d, m, dept): f for d, m, dept, f in wire.feedback},
    )
