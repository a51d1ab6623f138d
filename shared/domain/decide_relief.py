"""Deciding relief for the subject: credit repair (信用修复) and exit (移出)."""

from __future__ import annotations

from datetime import date, timedelta

from shared.domain.calendar import add_working_days
from shared.domain.catalogue.model import ListType
from shared.domain.china_time import china_date, utc
from shared.domain.commands import (
    ApplyExit,
    ApproveExit,
    GrantRepair,
    OpenExitWindow,
    RefuseRepair,
)
from shared.domain.decide_support import (
    CatalogueLookup,
    NewEvent,
    check_in_force,
    list_type_of,
    own_designation,
    with_related,
)
from shared.domain.fold_state import DesignationRecord, DesignationState, SubjectState
from shared.domain.lifecycle_events import (
    ExitApplied,
    ExitApproved,
    ExitWindowOpened,
    RepairGranted,
    RepairRefused,
)
from shared.domain.rejections import Problems, Rejected, RejectionCode
from shared.domain.vocabulary import ExpiryMode, Polarity

# --- repair -----------------------------------------------------------------------


def decide_grant_repair(
    state: SubjectState, command: GrantRepair, catalogue: CatalogueLookup
) -> list[NewEvent] | Rejected:
    found = own_designation(state, command)
    if isinstance(found, Rejected):
        return found
    record, problems = found
    check_in_force(record, command.at, problems, suspended_ok=True)
    list_type = list_type_of(record, catalogue, problems)
    if list_type is not None:
        if not list_type.repair.allowed or record.data.polarity is not Polarity.SANCTION:
            problems.add(
                RejectionCode.REPAIR_NOT_ALLOWED,
                "designation_id",
                f"{list_type.code} has no credit repair",
            )
        else:
            _check_lockout(state, record, list_type, command, problems)
    _check_measures(record, command.measures, problems)
    if problems:
        return problems.rejected()
    if command.measures is None:  # repaired: related persons' listings follow
        return with_related(
            record,
            command.at,
            lambda designation_id: RepairGranted(designation_id=designation_id, note=command.note),
        )
    event = RepairGranted(
        designation_id=record.designation_id, measures=command.measures, note=command.note
    )
    return [NewEvent(record.data.subject_id, command.at, event)]


def _check_lockout(
    state: SubjectState,
    record: DesignationRecord,
    list_type: ListType,
    command: GrantRepair,
    problems: Problems,
) -> None:
    """Lock-outs count from publication (effective_from). `nth` is the listing's rank
    among the subject's listings on the list type *at the rule's level* (首次严重失信 /
    再次严重失信: seed 004 篇十三 第十五条 counts serious listings, not every listing);
    revoked ones are never counted."""
    level = record.data.level
    listings = [
        r.designation_id
        for r in state.listings(record.data.list_type)
        if r.data.level is level
        and (r is record or r.end is None or r.end.state is not DesignationState.REVOKED)
    ]
    nth = listings.index(record.designation_id) + 1
    rules = [rule for rule in list_type.repair.lockouts if rule.level is level and rule.nth <= nth]
    if not rules:
        return
    rule = max(rules, key=lambda r: r.nth)
    which = f"listing no. {nth} at level {level.value}"
    if rule.days is None:
        problems.add(
            RejectionCode.REPAIR_IN_LOCKOUT,
            "designation_id",
            f"a {which} is never repaired",
        )
        return
    opens = record.data.effective_from + timedelta(days=rule.days)
    if command.at < opens:
        problems.add(
            RejectionCode.REPAIR_IN_LOCKOUT,
            "designation_id",
            f"a {which} cannot be repaired before {china_date(opens).isoformat()}",
        )


def _check_measures(
    record: DesignationRecord, measures: tuple[str, ...] | None, problems: Problems
) -> None:
    if measures is None:
        return
    if not measures:
        problems.add(
            RejectionCode.MEASURE_NOT_IN_DESIGNATION,
            "measures",
            "name the measures to lift, or omit `measures` to lift them all",
        )
    applied = {t.measure for t in record.data.tasks} - record.lifted
    for index, code in enumerate(measures):
        if code not in applied:
            problems.add(
                RejectionCode.MEASURE_NOT_IN_DESIGNATION,
                f"measures[{index}]",
                f"{code} is not a measure in force on this designation",
            )


def decide_refuse_repair(
    state: SubjectState, command: RefuseRepair, catalogue: CatalogueLookup
) -> list[NewEvent] | Rejected:
    found = own_designation(state, command)
    if isinstance(found, Rejected):
        return found
    record, problems = found
    if problems:
        return problems.rejected()
    event = RepairRefused(designation_id=record.designation_id, note=command.note)
    return [NewEvent(record.data.subject_id, command.at, event)]


# --- exit -------------------------------------------------------------------------


def _window_opens(record: DesignationRecord, list_type: ListType) -> date | None:
    """The first day an exit may be applied for: `exit_window_working_days` working days
    before the end. None: no end, or no window (any time)."""
    until = record.data.effective_until
    if until is None or list_type.exit_window_working_days is None:
        return None
    return add_working_days(china_date(until), -list_type.exit_window_working_days)


def _exit_regime(
    record: DesignationRecord, catalogue: CatalogueLookup, problems: Problems
) -> ListType | None:
    if record.data.expiry is not ExpiryMode.APPLICATION:
        problems.add(
            RejectionCode.EXIT_NOT_APPLICABLE,
            "designation_id",
            f"{record.data.list_type} ends by itself: there is no exit to apply for",
        )
        return None
    return list_type_of(record, catalogue, problems)


def decide_open_exit_window(
    state: SubjectState, command: OpenExitWindow, catalogue: CatalogueLookup
) -> list[NewEvent] | Rejected:
    found = own_designation(state, command)
    if isinstance(found, Rejected):
        return found
    record, problems = found
    check_in_force(record, command.at, problems, suspended_ok=True)
    list_type = _exit_regime(record, catalogue, problems)
    opens = None if list_type is None else _window_opens(record, list_type)
    if list_type is not None and opens is None:
        problems.add(
            RejectionCode.EXIT_NOT_APPLICABLE,
            "designation_id",
            "no exit window: the listing has no end or the regime no window",
        )
    if opens is not None and china_date(command.at) < opens:
        problems.add(
            RejectionCode.EXIT_OUTSIDE_WINDOW, "at", f"the window opens on {opens.isoformat()}"
        )
    until = record.data.effective_until
    if opens is None or until is None or problems:  # `until` is set whenever `opens` is
        return problems.rejected()
    event = ExitWindowOpened(
        designation_id=record.designation_id, opens_on=opens, effective_until=until
    )
    return [NewEvent(record.data.subject_id, command.at, event)]


def decide_apply_exit(
    state: SubjectState, command: ApplyExit, catalogue: CatalogueLookup
) -> list[NewEvent] | Rejected:
    """The window opens N working days before the end and stays open until the exit:
    on application regimes the listing does not end by itself."""
    found = own_designation(state, command)
    if isinstance(found, Rejected):
        return found
    record, problems = found
    check_in_force(record, command.at, problems, suspended_ok=True)
    if record.exit.applied_at is not None:
        problems.add(
            RejectionCode.EXIT_ALREADY_APPLIED,
            "designation_id",
            f"an exit was applied for on {record.exit.applied_at.isoformat()}",
        )
    list_type = _exit_regime(record, catalogue, problems)
    opens = None if list_type is None else _window_opens(record, list_type)
    if opens is not None and china_date(command.at) < opens:
        problems.add(
            RejectionCode.EXIT_OUTSIDE_WINDOW,
            "at",
            f"an exit may be applied for from {opens.isoformat()}",
        )
    if problems:
        return problems.rejected()
    event = ExitApplied(designation_id=record.designation_id, note=command.note)
    return [NewEvent(record.data.subject_id, command.at, event)]


def decide_approve_exit(
    state: SubjectState, command: ApproveExit, catalogue: CatalogueLookup
) -> list[NewEvent] | Rejected:
    """Approved before the end, the listing still runs its period and exits at its end;
    approved after it, the listing exits at once."""
    found = own_designation(state, command)
    if isinstance(found, Rejected):
        return found
    record, problems = found
    if record.exit.applied_at is None or record.exit.approved_at is not None:
        problems.add(
            RejectionCode.EXIT_NOT_APPLIED,
            "designation_id",
            "no exit application awaits approval",
        )
    if problems:
        return problems.rejected()
    until = record.data.effective_until
    exited_at = utc(command.at if until is None else max(command.at, until))
    return with_related(
        record,
        command.at,
        lambda designation_id: ExitApproved(
            designation_id=designation_id, exited_at=exited_at, note=command.note
        ),
    )
