"""The domain's coverage gate fails a run that leaves a line or a branch uncovered.

`make unit` and `make test` run `pytest tests/unit $(DOMAIN_COVERAGE)` with the
project's `[tool.coverage.*]` settings. Here the same flags and settings run on a tiny
package of rules (the settings' source swapped for it) with tests that cover all of it,
or leave one branch, one line, or one whole module untested."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]

RULES = """\
def fine_band(amount: int) -> str:
    if amount > 100:
        return "serious"
    return "minor"


def capped(days: int, cap: int | None) -> int:
    if cap is not None:
        days = min(days, cap)
    return days
"""

FULL_TESTS = """\
from rules.limits import capped, fine_band

def test_bands():
    assert fine_band(500) == "serious"
    assert fine_band(5) == "minor"

def test_caps():
    assert capped(30, 10) == 10
    assert capped(30, None) == 30
"""


def _domain_coverage_flags() -> list[str]:
    makefile = (ROOT / "Makefile").read_text()
    found = re.search(r"^DOMAIN_COVERAGE := (.+)$", makefile, re.MULTILINE)
    assert found, "the Makefile defines DOMAIN_COVERAGE"
    return found.group(1).split()


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, str):
        return '"' + value + '"'
    return str(value)


def _coverage_settings(source_pkg: str) -> str:
    """The project's coverage settings as a pyproject.toml, measuring `source_pkg`."""
    coverage = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["coverage"]
    assert coverage["run"]["source_pkgs"] == ["shared.domain"]
    tables = {**coverage, "run": {**coverage["run"], "source_pkgs": [source_pkg]}}
    lines = ["[tool.pytest.ini_options]", 'addopts = "-p no:cacheprovider -p pytest_cov.plugin"']
    for name, table in tables.items():
        lines.append(f"[tool.coverage.{name}]")
        lines += [f"{key} = {_toml_value(value)}" for key, value in table.items()]
    return "\n".join(lines) + "\n"


def _run_gate(tmp_path: Path, tests: str, extra_modules: dict[str, str] | None = None) -> str:
    package = tmp_path / "rules"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "limits.py").write_text(RULES)
    for name, text in (extra_modules or {}).items():
        (package / name).write_text(text)
    (tmp_path / "pyproject.toml").write_text(_coverage_settings("rules"))
    (tmp_path / "test_rules.py").write_text(textwrap.dedent(tests))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COV_", "COVERAGE_"))}
    env["PYTHONPATH"] = str(tmp_path)
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # only pytest-cov: a quicker start
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "test_rules.py", *_domain_coverage_flags()],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return f"exit {done.returncode}\n{done.stdout}{done.stderr}"


def _report_line(output: str, path: str) -> str:
    lines = [line for line in output.splitlines() if line.startswith(path)]
    assert len(lines) == 1, output
    return lines[0]


def test_the_make_targets_measure_the_unit_run() -> None:
    makefile = (ROOT / "Makefile").read_text()
    assert makefile.count(".venv/bin/pytest tests/unit $(DOMAIN_COVERAGE) $(PYTEST_ARGS)") == 2
    assert "--ignore=tests/unit" in makefile  # the rest of the suite runs unmeasured


def test_full_coverage_passes(tmp_path: Path) -> None:
    output = _run_gate(tmp_path, FULL_TESTS)
    assert output.startswith("exit 0\n"), output
    assert "Required test coverage of 100.0% reached" in output


def test_a_branch_never_taken_fails_naming_it(tmp_path: Path) -> None:
    # Every line runs (a cap is always given), but `if cap is not None` never falls
    # through to `return days`: 8 -> 10 is missing.
    tests = FULL_TESTS.replace("    assert capped(30, None) == 30\n", "")
    output = _run_gate(tmp_path, tests)
    assert output.startswith("exit 1\n"), output
    assert "FAIL Required test coverage of 100.0% not reached" in output
    assert _report_line(output, "rules/limits.py").split()[-1] == "8->10"


def test_a_line_never_run_and_a_module_never_imported_fail(tmp_path: Path) -> None:
    tests = FULL_TESTS.replace('    assert fine_band(500) == "serious"\n', "")
    output = _run_gate(tmp_path, tests, {"points.py": "THRESHOLD = 10\n"})
    assert output.startswith("exit 1\n"), output
    assert _report_line(output, "rules/limits.py").split()[-1] == "3"
    assert _report_line(output, "rules/points.py").split()[-2:] == ["0%", "1"]


def test_the_fixture_rules_are_as_the_line_numbers_say() -> None:
    lines = RULES.splitlines()
    assert lines[2].strip() == 'return "serious"'  # line 3
    assert lines[7].strip() == "if cap is not None:"  # line 8
    assert lines[9].strip() == "return days"  # line 10
