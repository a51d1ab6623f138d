"""On which stream a subject is kept: its stream key."""

from __future__ import annotations

from shared.domain.identifiers import IdentifierError, derive_identity


def subject_key(raw_ids: list[str]) -> str:
    """The canonical subject id the stream is kept under (or the raw id, which
    `decide` then refuses with the identifier's precise reason)."""
    try:
        return derive_identity(raw_ids).subject_id
    except IdentifierError:
        return raw_ids[0].strip().upper()
