"""`jsb import`: reading CSV and JSON-lines files, sending chunks, the summary."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import typer
from rich.console import Console
from rich.progress import Progress

from shared.cli.import_cmd import (
    CallFailed,
    Line,
    print_summary,
    read_lines,
    row_to_body,
    send,
)

HEADER = (
    "subject_id,subject_name,subject_other_ids,list_type,level,reason,decision_no,decided_at,"
    "effective_until,measures,legal_basis_title,legal_basis_article,legal_basis_url,"
    "related_persons\n"
)


def test_csv_row_becomes_a_designation_body(tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    path.write_text(
        HEADER + "91350100M000100Y43,某公司,E12345678; ,court.dishonest-debtor,serious,拒不履行,"
        "(2026)执1号,2026-01-05,2027-01-05T00:00:00+08:00,a.b;c.d,规定,第一条,https://x,"
        "11010519491231002X|张三|legal_representative\n"
        "11010519491231002X,李四,,court.dishonest-debtor,serious,r,(2026)执2号,2026-01-05,"
        ",,,,,\n",
        encoding="utf-8",
    )
    first, second = read_lines(path)
    assert first.number == 2
    assert first.body == {
        "subject": {"id": "91350100M000100Y43", "name": "某公司", "other_ids": ["E12345678"]},
        "list_type": "court.dishonest-debtor",
        "level": "serious",
        "reason": "拒不履行",
        "decision_no": "(2026)执1号",
        "decided_at": "2026-01-05",
        "effective_until": "2027-01-05T00:00:00+08:00",
        "measures": ["a.b", "c.d"],
        "legal_basis": [{"title": "规定", "article": "第一条", "url": "https://x"}],
        "related_persons": [
            {"id": "11010519491231002X", "name": "张三", "role": "legal_representative"}
        ],
    }
    assert second.body is not None
    assert set(second.body) == {
        "subject", "list_type", "level", "reason", "decision_no", "decided_at",
    }  # fmt: skip


def test_csv_without_a_required_column_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "list.csv"
    path.write_text("subject_id,subject_name\n1,2\n", encoding="utf-8")
    with pytest.raises(typer.BadParameter, match="list_type"):
        list(read_lines(path))


def test_json_lines_keep_their_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "list.jsonl"
    path.write_text('{"a": 1}\n\n{broken\n[1]\n{"b": 2}\n', encoding="utf-8")
    lines = list(read_lines(path))
    assert [(x.number, x.body) for x in lines] == [
        (1, {"a": 1}),
        (3, None),
        (4, None),
        (5, {"b": 2}),
    ]
    assert lines[1].errors[0]["code"] == "json_invalid"
    assert lines[2].errors[0]["code"] == "not_an_object"


def test_row_without_optional_columns() -> None:
    body = row_to_body({"subject_id": " X ", "subject_name": "n", None: "ignored"})  # type: ignore[dict-item]
    assert body["subject"] == {"id": "X", "name": "n"}
    assert "legal_basis" not in body
    assert "related_persons" not in body


def _server(seen: list[dict[str, Any]]) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        payload = json.loads(request.content)
        seen.append({"key": request.headers["Idempotency-Key"], "n": len(payload["designations"])})
        results = [
            {"index": i, "status": 201, "designation_id": "x"}
            if d.get("ok")
            else {"index": i, "status": 422, "type": "urn:jsb:problem:v", "detail": "bad",
                  "errors": [{"field": "level", "code": "enum", "message": "no"}]}
            for i, d in enumerate(payload["designations"])
        ]  # fmt: skip
        return httpx.Response(200, json={"results": results})

    return httpx.MockTransport(handle)


def test_send_in_chunks_with_a_key_each() -> None:
    lines = [Line(1, {"ok": True}), Line(2, None, [{"field": "", "code": "json_invalid",
             "message": "x"}]), Line(3, {"ok": False}), Line(4, {"ok": True})]  # fmt: skip
    seen: list[dict[str, Any]] = []
    with httpx.Client(transport=_server(seen), base_url="http://i") as client:
        summary = send(lines, client, 2, "k", Progress(disable=True))
    assert seen == [{"key": "k-0", "n": 1}, {"key": "k-1", "n": 2}]
    assert (summary.total, summary.accepted) == (4, 2)
    assert [n for n, _ in summary.rejected] == [2, 3]
    console = Console(record=True, width=200)
    print_summary(console, summary, 1.0, limit=1)
    text = console.export_text()
    assert "4 designation(s): 2 accepted, 2 rejected" in text
    assert "json_invalid" in text
    assert "1 more rejected line(s)" in text


def test_a_refused_call_stops_the_import() -> None:
    transport = httpx.MockTransport(lambda r: httpx.Response(401, json={"status": 401}))
    with (
        httpx.Client(transport=transport, base_url="http://i") as client,
        pytest.raises(CallFailed),
    ):
        send([Line(1, {"ok": True})], client, 10, "k", Progress(disable=True))


def test_csv_facts_of_the_case_and_an_omitted_level(tmp_path: Path) -> None:
    path = tmp_path / "court.csv"
    path.write_text(
        "subject_id,subject_name,list_type,reason,decision_no,decided_at,court_ground,"
        "exit_restriction_decision_no,unpaid_tax_without_security,penalty_or_dismissal_on\n"
        "11010519491231002X,李四,court.dishonest-debtor,r,(2026)执2号,2026-01-05,1,"
        "(2026)执2号之一,,\n",
        encoding="utf-8",
    )
    [line] = read_lines(path)
    assert line.body is not None
    assert "level" not in line.body  # the court list has no levels
    assert line.body["facts"] == {
        "court_ground": 1,
        "exit_restriction_decision_no": "(2026)执2号之一",
    }
