"""msgspec types mirroring pydantic models, built from the models at import: the
notifier's fast check that a status message has the schema
(services/notifier/status_decoder.py), and the ledger's that an event's data has its
type's (`shared.domain.events.validate`).

Only what maps one to one is mirrored, and strictly: msgspec checks a parsed JSON
document (`msgspec.convert(doc, mirror, strict=True)`: strings to dates, times and
UUIDs as its JSON decoder parses them, nothing else converted) without pydantic's lax
conversions ("1" for an int, 0 for a bool, a number for a date), so a
mirror accepts a subset of what its model accepts; status_decoder.py leaves every
document the mirror refuses to the model itself. Anything the mirror cannot express
exactly (a validator, an alias, a config other than `frozen` and `extra`, a
constraint or a type not listed here) raises `Unmirrorable` when the mirror is built,
so a change to the models can make the check slower (refused at build → the model
decides everything) but never laxer.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from datetime import date, datetime
from enum import Enum
from typing import Annotated, Any, Literal, Union
from uuid import UUID

import annotated_types
import msgspec
from pydantic import AwareDatetime, BaseModel, JsonValue
from pydantic.fields import FieldInfo

_PLAIN = (str, int, bool, UUID, date, type(None))
_CONFIG = {"frozen", "extra"}
_CONSTRAINTS = {
    annotated_types.MinLen: "min_length",
    annotated_types.MaxLen: "max_length",
    annotated_types.Ge: "ge",
    annotated_types.Le: "le",
}


class Unmirrorable(TypeError):
    """A model, field or type the mirror cannot check exactly as pydantic does."""


def mirror(model: type[BaseModel], overrides: dict[str, Any] | None = None) -> Any:
    """The msgspec type of `model`; `overrides` replace the types of its own fields
    (e.g. the envelope's `data` by the status it carries), and make them required:
    pydantic validates the default ({} for the envelope's data) against that type too,
    and refuses it."""
    return _Mirror().model(model, overrides or {})


class _Mirror:
    def __init__(self) -> None:
        self.built: dict[type[BaseModel], Any] = {}

    def model(self, model: type[BaseModel], overrides: dict[str, Any]) -> Any:
        if model in self.built and not overrides:
            return self.built[model]
        _refuse_behaviour(model)
        fields = [
            self.field(name, info, overrides.get(name)) for name, info in model.model_fields.items()
        ]
        struct = msgspec.defstruct(
            "Mirror" + model.__name__,
            fields,
            kw_only=True,
            forbid_unknown_fields=model.model_config.get("extra") == "forbid",
            # Not tracked by the cyclic collector: a decoded mirror is checked and
            # dropped, and decoded JSON holds no cycles. A court status decodes into
            # ~50 structs, each of which counted towards the next young collection.
            gc=False,
        )
        if not overrides:
            self.built[model] = struct
        return struct

    def field(self, name: str, info: FieldInfo, override: Any) -> tuple[Any, ...]:
        if info.alias is not None or info.validation_alias is not None:
            raise Unmirrorable(f"{name}: aliases are not mirrored")
        kind = override if override is not None else self.annotation(info.annotation)
        meta = _meta(name, info.metadata)
        if meta is not None:
            kind = _constrain(kind, meta)
        if info.is_required() or override is not None:
            return (name, kind)
        return (name, kind, None)  # a default: only presence is checked, never used

    def annotation(self, annotation: Any) -> Any:
        if annotation is AwareDatetime:
            return Annotated[datetime, msgspec.Meta(tz=True)]
        if annotation is JsonValue or annotation is Any:
            return Any
        if isinstance(annotation, type):
            if issubclass(annotation, BaseModel):
                return self.model(annotation, {})
            if issubclass(annotation, Enum) or annotation in _PLAIN:
                return annotation
        origin, args = typing.get_origin(annotation), typing.get_args(annotation)
        if origin is Literal and all(isinstance(a, str) for a in args):
            return annotation
        if origin in (Union, types.UnionType):
            return Union[tuple(self.annotation(a) for a in args)]  # noqa: UP007
        if origin is tuple and len(args) == 2 and args[1] is Ellipsis:
            return tuple[self.annotation(args[0]), ...]  # type: ignore[misc]
        if origin is dict and len(args) == 2 and args[0] is str:
            return dict[str, self.annotation(args[1])]  # type: ignore[misc]
        raise Unmirrorable(f"{annotation!r} is not mirrored")


def _refuse_behaviour(model: type[BaseModel]) -> None:
    decorators = model.__pydantic_decorators__
    if any(getattr(decorators, f.name) for f in dataclasses.fields(decorators)):
        raise Unmirrorable(f"{model.__name__} has validators or serialisers")
    config = set(model.model_config) - _CONFIG
    if config:
        raise Unmirrorable(f"{model.__name__}: config {sorted(config)} is not mirrored")


def _meta(name: str, metadata: list[Any]) -> msgspec.Meta | None:
    if not metadata:
        return None
    constraints: dict[str, Any] = {}
    for m in metadata:
        key = _CONSTRAINTS.get(type(m))
        if key is None:
            raise Unmirrorable(f"{name}: constraint {m!r} is not mirrored")
        constraints[key] = getattr(m, key)
    return msgspec.Meta(**constraints)


def _constrain(kind: Any, meta: msgspec.Meta) -> Any:
    """The constraint on the non-null part of an optional field, as pydantic applies it."""
    if typing.get_origin(kind) is Union:
        return Union[  # noqa: UP007
            tuple(a if a is type(None) else Annotated[a, meta] for a in typing.get_args(kind))
        ]
    return Annotated[kind, meta]
