"""Who acts and on which stream: the caller's department, a subject's stream key."""

from __future__ import annotations

from shared.domain.identifiers import IdentifierError, derive_identity
from shared.domain.rejections import RejectionCode
from shared.web.auth import Principal
from shared.web.problems import FieldError, ProblemError


def department_of(principal: Principal) -> str:
    """The acting department; the auditor and ops desks designate nothing (403)."""
    if principal.department is None or "initiator" not in principal.roles:
        code = RejectionCode.DEPARTMENT_NOT_ALLOWED.value
        message = f"{principal.name} is not an initiating department"
        raise ProblemError(403, code, message, [FieldError("Authorization", code, message)])
    return principal.department


def subject_key(raw_ids: list[str]) -> str:
    """The canonical subject id the stream is kept under (or the raw id, which
    `decide` then refuses with the identifier's precise reason)."""
    try:
        return derive_identity(raw_ids).subject_id
    except IdentifierError:
        return raw_ids[0].strip().upper()
