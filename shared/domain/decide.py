"""`decide(state, command, catalogue)`: the command side's one entry point.

Pure: the subject's folded state, a command (with its `at`) and the catalogue in;
either the events to publish or a `Rejected` listing every problem out. Nothing is
read from a clock, a database or the network. The rules themselves live in
decide_issue, decide_correct, decide_objection and decide_relief; the codes in
rejections.

`state` is the state of the subject the command is about (for IssueDesignation, the
subject designated: the cross-check reads its sanctions in force). Events for related
persons' designations carry their own subject (`NewEvent.subject`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from shared.domain.commands import (
    AmendDesignation,
    AnyCommand,
    ApplyExit,
    ApproveExit,
    ExpireDesignation,
    FileObjection,
    GrantRepair,
    IssueDesignation,
    OpenExitWindow,
    RefuseRepair,
    RemindObjection,
    ResolveObjection,
    RevokeDesignation,
    SupersedeDesignation,
)
from shared.domain.decide_correct import (
    decide_amend,
    decide_expire,
    decide_revoke,
    decide_supersede,
)
from shared.domain.decide_issue import decide_issue, related_designation_id
from shared.domain.decide_objection import (
    decide_file_objection,
    decide_remind_objection,
    decide_resolve_objection,
)
from shared.domain.decide_relief import (
    decide_apply_exit,
    decide_approve_exit,
    decide_grant_repair,
    decide_open_exit_window,
    decide_refuse_repair,
)
from shared.domain.decide_support import CatalogueLookup, NewEvent
from shared.domain.fold_state import SubjectState
from shared.domain.rejections import Rejected, Rejection, RejectionCode

__all__ = [
    "CatalogueLookup",
    "Decision",
    "NewEvent",
    "Rejected",
    "Rejection",
    "RejectionCode",
    "decide",
    "related_designation_id",
]

Decision = list[NewEvent] | Rejected

_DECIDERS: dict[type[Any], Callable[[SubjectState, Any, CatalogueLookup], Decision]] = {
    IssueDesignation: decide_issue,
    AmendDesignation: decide_amend,
    RevokeDesignation: decide_revoke,
    SupersedeDesignation: decide_supersede,
    ExpireDesignation: decide_expire,
    FileObjection: decide_file_objection,
    ResolveObjection: decide_resolve_objection,
    RemindObjection: decide_remind_objection,
    GrantRepair: decide_grant_repair,
    RefuseRepair: decide_refuse_repair,
    OpenExitWindow: decide_open_exit_window,
    ApplyExit: decide_apply_exit,
    ApproveExit: decide_approve_exit,
}


def decide(state: SubjectState, command: AnyCommand, catalogue: CatalogueLookup) -> Decision:
    """The events `command` yields on `state`, or why it is refused."""
    return _DECIDERS[type(command)](state, command, catalogue)
