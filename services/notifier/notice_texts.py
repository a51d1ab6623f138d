"""The words of each notice, in Chinese and in English. Pure.

Texts name the subject by its name, never by an identity number (notices are
shown to departments and kept; the subject id is a column, masked on display)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from shared.domain.catalogue.index import CatalogueIndex

STATE_ZH = {
    "expired": "期满移出",
    "exited": "申请退出已批准",
    "superseded": "已被更高等级名单取代",
    "revoked": "已撤销",
}
OUTCOME_ZH = {"rejected": "驳回", "upheld": "成立", "partially_upheld": "部分成立"}


def _measures(catalogue: CatalogueIndex, d: Mapping[str, Any]) -> tuple[str, str]:
    codes = sorted({t["measure"] for t in d.get("tasks", ())})
    zh, en = [], []
    for code in codes:
        m = catalogue.measure(code)
        zh.append(m.name_zh if m else code)
        en.append(m.name_en if m else code)
    return ("、".join(zh) or "无", "; ".join(en) or "none")


def _list_names(catalogue: CatalogueIndex, code: str) -> tuple[str, str]:
    lt = catalogue.list_type(code)
    return (lt.name_zh, lt.name_en) if lt else (code, code)


def listed(catalogue: CatalogueIndex, d: Mapping[str, Any], deadline: date) -> tuple[str, str]:
    lzh, len_ = _list_names(catalogue, d["list_type"])
    mzh, men = _measures(catalogue, d)
    name, by, why = d.get("subject_name", ""), d["designated_by"], d.get("reason", "")
    zh = (
        f"{name}：您已被{by}列入“{lzh}”（决定文号 {d.get('decision_no', '')}），"
        f"事由：{why}。将实施的措施：{mzh}。如有异议，请于{deadline.isoformat()}前"
        f"向{by}提出异议申请（说明理由并附证明材料）。"
    )
    en = (
        f"{name}: you have been placed on the list '{len_}' by {by} "
        f"(decision {d.get('decision_no', '')}), because: {why}. Measures: {men}. "
        f"To object, file an objection with {by}, with your grounds and evidence, "
        f"by {deadline.isoformat()} (China time)."
    )
    return zh, en


def objection_decided(d: Mapping[str, Any], objection: Mapping[str, Any]) -> tuple[str, str]:
    outcome = objection["status"]
    zh = (
        f"{d.get('subject_name', '')}：您对“{d['list_type']}”列入提出的异议已处理，"
        f"结果：{OUTCOME_ZH.get(outcome, outcome)}。{objection.get('note', '')}"
    )
    en = (
        f"{d.get('subject_name', '')}: your objection to the listing on '{d['list_type']}' "
        f"was decided: {outcome.replace('_', ' ')}. {objection.get('note', '')}"
    )
    return zh, en


def repair_decided(d: Mapping[str, Any], repair: Mapping[str, Any]) -> tuple[str, str]:
    granted = repair["granted"]
    zh = f"{d.get('subject_name', '')}：您的信用修复申请{'已获准' if granted else '未获准'}。"
    outcome = "granted" if granted else "refused"
    en = f"{d.get('subject_name', '')}: your credit repair was {outcome}."
    return zh + str(repair.get("note", "")), en + " " + str(repair.get("note", ""))


def ended(d: Mapping[str, Any], state: str) -> tuple[str, str]:
    zh = (
        f"{d.get('subject_name', '')}：您在“{d['list_type']}”中的列入{STATE_ZH.get(state, state)}。"
    )
    en = f"{d.get('subject_name', '')}: your listing on '{d['list_type']}' has ended ({state})."
    if state == "revoked":
        en = f"{d.get('subject_name', '')}: your listing on '{d['list_type']}' was revoked."
    return zh, en


def amended(d: Mapping[str, Any]) -> tuple[str, str]:
    zh = (
        f"{d.get('subject_name', '')}：您在“{d['list_type']}”中的列入信息已更正，新旧版本同时公示。"
    )
    en = (
        f"{d.get('subject_name', '')}: your listing on '{d['list_type']}' was corrected; "
        "the old and the new versions are shown together."
    )
    return zh, en


def task_overdue(task: Mapping[str, Any], deadline: date) -> tuple[str, str]:
    zh = (
        f"提醒：指定 {task['designation_id']} 的措施 {task['measure']} 的执行反馈"
        f"已超过期限（{deadline.isoformat()}），请尽快反馈。"
    )
    en = (
        f"Reminder: feedback on measure {task['measure']} of designation "
        f"{task['designation_id']} was due by {deadline.isoformat()}; please report."
    )
    return zh, en


def task_escalated(task: Mapping[str, Any], deadline: date) -> tuple[str, str]:
    zh = (
        f"督办：{task['department']} 对指定 {task['designation_id']} 的措施 {task['measure']}"
        f"逾期未反馈（期限 {deadline.isoformat()}，已提醒）。"
    )
    en = (
        f"Escalation: {task['department']} has not reported feedback on measure "
        f"{task['measure']} of designation {task['designation_id']} "
        f"(due {deadline.isoformat()}, reminded)."
    )
    return zh, en


def objection_deadline(item: Mapping[str, Any], deadline: date, passed: bool) -> tuple[str, str]:
    did = item["designation_id"]
    if passed:
        zh = f"异议复核期限已过（{deadline.isoformat()}）：指定 {did} 的异议尚未答复。"
        en = (
            f"The review deadline ({deadline.isoformat()}) of the objection to designation "
            f"{item['designation_id']} has passed without an answer."
        )
    else:
        zh = f"异议复核期限将至（{deadline.isoformat()}）：请及时答复指定 {did} 的异议。"
        en = (
            f"The review deadline ({deadline.isoformat()}) of the objection to designation "
            f"{item['designation_id']} is near; please answer it."
        )
    return zh, en


def endpoint_disabled(name: str, url: str, reason: str) -> tuple[str, str]:
    zh = f"Webhook 订阅“{name}”（{url}）持续投递失败，已停用：{reason}。修复后请启用并恢复。"
    en = (
        f"Webhook subscription '{name}' ({url}) kept failing and was disabled: {reason}. "
        "Fix the endpoint, then enable it and recover what it missed."
    )
    return zh, en
