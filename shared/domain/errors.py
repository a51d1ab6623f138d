"""What the domain and the service layer raise when a request cannot be done.

They say *why* in the domain's words (a rejection code, a dependency's name); how
a caller hears it (an HTTP status, a problem document, a timer's outcome) is the
entrypoint's business: `shared/web/problems.py` maps each of these to an RFC 9457
problem, `services/initiator/timer_loop.py` to a timer's outcome.
"""

from __future__ import annotations

from shared.domain.rejections import Rejected, Rejection, RejectionCode


class DomainError(Exception):
    """A request the backbone refuses or cannot serve now; nothing was changed."""


class CommandRefused(DomainError):
    """A command refused with every rejection found (codes from rejections.py)."""

    def __init__(self, rejected: Rejected) -> None:
        super().__init__("; ".join(r.message for r in rejected.rejections))
        self.rejected = rejected

    @classmethod
    def because(cls, code: RejectionCode, field: str, message: str) -> CommandRefused:
        return cls(Rejected(rejections=(Rejection(code=code, field=field, message=message),)))

    @property
    def code(self) -> RejectionCode:
        """The first rejection's code (the one a problem document is typed by)."""
        return self.rejected.rejections[0].code


class Refused(DomainError):
    """A request refused for a reason outside the command table (rejections.py): the
    subclass says which kind. `field` names what is wrong (`also`: further fields the
    same reason concerns, e.g. two fields of which exactly one must be given);
    `reason` and `reason_code` say what is wrong with it, when that differs from the
    whole."""

    def __init__(
        self,
        code: str,
        field: str,
        message: str,
        *,
        reason: str | None = None,
        reason_code: str | None = None,
        also: tuple[str, ...] = (),
    ) -> None:
        super().__init__(message)
        self.code, self.field, self.message = code, field, message
        self.reason = reason or message
        self.reason_code = reason_code or code
        self.fields = (field, *also)


class NotFound(Refused):
    """What the request names does not exist (or is not the caller's to see)."""


class Forbidden(Refused):
    """The caller may not do this (its token's department or role); `field` is the
    credential, `Authorization`."""


class InvalidRequest(Refused):
    """A request that is not well formed in a way its schema could not tell."""


class Conflict(Refused):
    """The request is valid but the state does not allow it."""


class ConcurrentChange(DomainError):
    """Another transaction changed the same stream first; sending it again is safe."""


class DependencyUnavailable(DomainError):
    """Another service gave no usable answer, so the request cannot be decided now."""

    def __init__(
        self, code: str, field: str, message: str, *, retry_after_s: int | None = None
    ) -> None:
        super().__init__(message)
        self.code, self.field, self.message = code, field, message
        self.retry_after_s = retry_after_s


class IdempotencyKeyReused(DomainError):
    """The caller's Idempotency-Key already answered a different request."""
