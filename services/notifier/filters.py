"""A subscription's filters and whether a status change passes them. Pure."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Filters(BaseModel):
    """Each field given narrows the subscription; none given: every change."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    list_types: list[str] | None = Field(None, min_length=1)
    polarity: Literal["sanction", "incentive"] | None = None
    departments: list[str] | None = Field(None, min_length=1)
    subject_kind: Literal["organization", "person"] | None = None
    event_types: list[str] | None = Field(None, min_length=1)
    subject_id: str | None = None
    """(live stream only) one subject."""


def _meets(wanted: list[str] | None, present: list[str]) -> bool:
    return wanted is None or bool(set(wanted) & set(present))


def passes(filters: Filters, facets: Mapping[str, Any], subject_id: str) -> bool:
    return (
        _meets(filters.list_types, facets.get("list_types", []))
        and (filters.polarity is None or filters.polarity in facets.get("polarities", []))
        and _meets(filters.departments, facets.get("departments", []))
        and (filters.subject_kind is None or filters.subject_kind == facets.get("subject_kind"))
        and _meets(filters.event_types, facets.get("event_types", []))
        and (filters.subject_id is None or filters.subject_id == subject_id)
    )
