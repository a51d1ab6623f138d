"""`jsb id` and `jsb calendar` through the real typer app."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from shared.cli.main import app

runner = CliRunner()
USCC = "91350100M000100Y43"
RESIDENT_ID = "11010519491231002X"


def test_id_check_all_valid() -> None:
    result = runner.invoke(app, ["id", "check", USCC, RESIDENT_ID, "E12345678"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        f"{USCC}  uscc  valid",
        "110105********002X  resident_id  valid",
        "E1*****78  passport  valid",
    ]
    assert RESIDENT_ID not in result.output


def test_id_check_single_id_is_not_collapsed() -> None:
    result = runner.invoke(app, ["id", "check", USCC])
    assert (result.exit_code, result.output) == (0, f"{USCC}  uscc  valid\n")


def test_id_check_reports_reasons_and_exits_1() -> None:
    wrong = RESIDENT_ID[:17] + "3"
    result = runner.invoke(app, ["id", "check", USCC, wrong, "hello"])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0] == f"{USCC}  uscc  valid"
    assert lines[1] == (
        "110105********0023  resident_id  invalid (bad_check_character): "
        "check character should be X, got 3"
    )
    assert lines[2].startswith("HE*LO  unknown  invalid (unknown_format)")
    assert wrong not in result.output


def test_id_check_with_explicit_kind() -> None:
    result = runner.invoke(app, ["id", "check", "--kind", "org_code", "MA1234560"])
    assert result.exit_code == 1
    assert "org_code  invalid (bad_check_character)" in result.output
    result = runner.invoke(app, ["id", "check", "-k", "passport", "MA1234560"])
    assert (result.exit_code, result.output) == (0, "MA*****60  passport  valid\n")


def test_id_check_needs_an_argument() -> None:
    assert runner.invoke(app, ["id", "check"]).exit_code == 2


@pytest.mark.parametrize(
    ("raw", "shown"),
    [(RESIDENT_ID, "110105********002X"), (USCC, USCC), ("E12345678", "E1*****78")],
)
def test_id_mask(raw: str, shown: str) -> None:
    result = runner.invoke(app, ["id", "mask", raw])
    assert (result.exit_code, result.output) == (0, shown + "\n")


def test_id_without_command_shows_help() -> None:
    result = runner.invoke(app, ["id"])
    assert "check" in result.output
    assert "mask" in result.output


@pytest.mark.parametrize(
    ("args", "printed"),
    [
        (["2024-09-30", "1"], "2024-10-08"),
        (["2024-10-08", "-1"], "2024-09-30"),
        (["2024-10-01", "0"], "2024-10-01"),
    ],
)
def test_calendar_add(args: list[str], printed: str) -> None:
    result = runner.invoke(app, ["calendar", "add", *args])
    assert (result.exit_code, result.output) == (0, printed + "\n")


def test_calendar_between() -> None:
    result = runner.invoke(app, ["calendar", "between", "2024-09-30", "2024-10-08"])
    assert (result.exit_code, result.output) == (0, "1\n")
    result = runner.invoke(app, ["calendar", "between", "2024-10-08", "2024-09-30"])
    assert (result.exit_code, result.output) == (0, "-1\n")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["add", "2024-10-8", "1"], "is not a date in YYYY-MM-DD form"),
        (["add", "2024-02-30", "1"], "is not a date in YYYY-MM-DD form"),
        (["add", "20240930", "1"], "is not a date in YYYY-MM-DD form"),
        (["add", "2024-09-30", "x"], "valid integer"),
        (["add", "9999-12-30", "10"], "supported date range"),
        (["between", "2024-09-30", "tomorrow"], "is not a date in YYYY-MM-DD form"),
    ],
)
@pytest.mark.filterwarnings("ignore::shared.domain.calendar.CalendarFallbackWarning")
def test_calendar_bad_input_exits_2(args: list[str], message: str) -> None:
    result = runner.invoke(app, ["calendar", *args])
    assert result.exit_code == 2
    assert message in " ".join(result.output.split())
