"""The HTTP status of each refusal: an entrypoint's choice, kept out of the domain.

The rejection codes (shared/domain/rejections.py) say why a command is refused;
this table says how the HTTP API answers each one. A code not listed is about the
content of the command: 422.
"""

from __future__ import annotations

from shared.domain.rejections import Rejected, RejectionCode

REJECTION_STATUS: dict[RejectionCode, int] = {
    # -- who acts --
    RejectionCode.DEPARTMENT_NOT_ALLOWED: 403,
    RejectionCode.NOT_OWN_DESIGNATION: 403,
    # -- what is referred to --
    RejectionCode.DESIGNATION_NOT_FOUND: 404,
    RejectionCode.OBJECTION_NOT_FOUND: 404,
    # -- the state it is in --
    RejectionCode.DESIGNATION_EXISTS: 409,
    RejectionCode.DESIGNATION_CLOSED: 409,
    RejectionCode.NOT_IN_FORCE: 409,
    RejectionCode.INCENTIVE_WHILE_SANCTIONED: 409,
    RejectionCode.OBJECTION_ALREADY_OPEN: 409,
    RejectionCode.OBJECTION_NOT_OPEN: 409,
    RejectionCode.REPAIR_IN_LOCKOUT: 409,
    RejectionCode.EXIT_OUTSIDE_WINDOW: 409,
    RejectionCode.EXIT_ALREADY_APPLIED: 409,
    RejectionCode.EXIT_NOT_APPLIED: 409,
    RejectionCode.NOT_YET_EXPIRED: 409,
}
# When several rejections differ in status, the answer is the first of these present.
STATUS_PRIORITY = (404, 403, 409, 422)


def code_status(code: RejectionCode) -> int:
    return REJECTION_STATUS.get(code, 422)


def rejected_status(rejected: Rejected) -> int:
    present = {code_status(r.code) for r in rejected.rejections}
    return next(s for s in STATUS_PRIORITY if s in present)
