"""The ops dashboard in a real browser (issue 12): headless Chromium from Debian's
packages (deploy/scripts/tools.sh), driven by Playwright's Python package through
`executable_path` — no browser is downloaded.

The four services run as processes on this module's own topics and schemas, with four
measures executed by hand (deploy/responder-execution-modes.json); `jsb demo --size 40`
seeds them. Then, on the page:

- the tiles show non-zero numbers equal to `/v1/stats/tiles`;
- each chart has rendered data points;
- the departments table names the departments the demo left overdue, first, and
  drills down to their overdue tasks;
- a subject search opens its timeline; moving the "as of" slider shows what
  `/v1/subjects/{id}/status?as_of=` answers;
- a designation made meanwhile appears without reloading (the live feed).

Screenshots go to `.local/test-artifacts/dashboard/` (JSB_TEST_ARTIFACTS), and to
`docs/` with JSB_DOCS_SCREENSHOTS=1.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from uuid import uuid4

import httpx
import pytest

from shared.adapters import kafka_admin
from shared.adapters.migrations import upgrade_all
from shared.adapters.settings import PROJECT_ROOT
from shared.adapters.topics import TOPICS, TopicSpec
from tests.conftest import drop_schemas
from tests.e2e.conftest import _tokens
from tests.support.infra import Infra, unique
from tests.support.poll import until
from tests.support.stack import Stack, start_stack
from tests.support.subjects import new_uscc

pytestmark = pytest.mark.e2e

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
MODES = (PROJECT_ROOT / "deploy" / "responder-execution-modes.json").read_text()
LEFT_OVERDUE = ("mnr", "mof")
ARTIFACTS = (
    Path(os.environ.get("JSB_TEST_ARTIFACTS") or PROJECT_ROOT / ".local" / "test-artifacts")
    / "dashboard"
)


def _shot(page: Any, name: str, docs: str | None = None) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    if docs and os.environ.get("JSB_DOCS_SCREENSHOTS"):
        shutil.copy(path, PROJECT_ROOT / "docs" / docs)


@pytest.fixture(scope="module")
def seeded(infra: Infra, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Stack, Any]]:
    """A stack of this module's own, seeded by `jsb demo` (its summary)."""
    topic_suffix, schema_suffix = "." + unique("dash"), "_" + unique("dash")
    asyncio.run(
        kafka_admin.ensure_topics(
            infra.kafka, 3, tuple(TopicSpec(t.name + topic_suffix, t.configs) for t in TOPICS)
        )
    )
    upgrade_all(url=infra.admin_url, schema_suffix=schema_suffix, role=infra.service_role)
    workdir = tmp_path_factory.mktemp("dashboard")
    try:
        stack = start_stack(
            infra,
            topic_suffix,
            schema_suffix,
            _tokens(),
            workdir,
            extra_env={"JSB_RESPONDER_EXECUTION_MODES": MODES},
        )
    except BaseException:
        drop_schemas(infra.admin_url, schema_suffix)
        raise
    try:
        env = {
            **stack.services["ledger"].env,
            **{f"{n.upper()}_URL": s.url for n, s in stack.services.items()},
        }
        summary_path = workdir / "demo.json"
        done = subprocess.run(
            [
                *(sys.executable, "-m", "shared.cli.main", "demo", "--size", "20"),
                *("--days", "20", "--checks", "12", "--wait", "120"),
                *("--summary-json", str(summary_path)),
            ],
            cwd=PROJECT_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        (
            ARTIFACTS.mkdir(parents=True, exist_ok=True),
            (ARTIFACTS / "demo.txt").write_text(done.stdout),
        )
        yield stack, json.loads(summary_path.read_text())
    finally:
        stack.stop()
        if not os.environ.get("JSB_KEEP_TEST_DATA"):
            drop_schemas(infra.admin_url, schema_suffix)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: run deploy/scripts/tools.sh (make test does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield b
        b.close()


def _api(stack: Stack, path: str, as_: str = "ops", **params: Any) -> Any:
    with stack.client("ledger", as_=as_) as c:
        r = c.get(path, params=params)
    assert r.status_code == 200, r.text
    return r.json()


@pytest.fixture
def page(seeded: tuple[Stack, Any], browser: Any) -> Iterator[Any]:
    stack, _ = seeded
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, timezone_id="UTC")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(stack.url("ledger") + "/dashboard")
    page.fill("#token", stack.tokens["ops"])
    page.click("#login button[type=submit]")
    page.wait_for_selector("body[data-loaded]")
    yield page
    context.close()
    assert not errors, errors


def _tiles(page: Any) -> dict[str, int]:
    cells = page.eval_on_selector_all(
        "[data-tile]",
        "els => els.map(e => [e.dataset.tile, e.querySelector('.value').textContent])",
    )
    return {k: int(v) for k, v in cells}


def test_tiles_equal_the_api_and_every_chart_has_data(seeded: tuple[Stack, Any], page: Any) -> None:
    stack, _ = seeded
    # the live feed refreshes the page as ingest goes on: compare once both are still
    api = until(
        lambda: (_api(stack, "/v1/stats/tiles"), _tiles(page)),
        lambda pair: all(pair[1].get(k) == v for k, v in pair[0].items() if isinstance(v, int)),
        timeout_s=30,
        every_s=1.5,
    )[0]
    shown = _tiles(page)
    for key in (
        "subjects_under_sanction",
        "designations_in_force",
        "objections_pending",
        "interceptions_today",
        "tasks_overdue",
    ):
        assert shown[key] == api[key] > 0, key
    assert {"objections_overdue", "dead_letters", "consumer_lag"} <= shown.keys()
    points = page.evaluate(
        """() => Object.fromEntries(Object.entries(window.jsbDashboard.charts).map(([id, c]) =>
             [id, c.getOption().series.reduce((n, s) =>
                n + s.data.filter(v => Number(v) > 0).length, 0)]))"""
    )
    assert set(points) == {"chart-designations", "chart-interceptions", "chart-departments"}
    assert all(n > 0 for n in points.values()), points
    _shot(page, "overview", docs="dashboard-overview.png")


def test_the_departments_that_do_not_report_are_named_with_their_overdue_tasks(
    seeded: tuple[Stack, Any], page: Any
) -> None:
    stack, summary = seeded
    assert set(summary["left_overdue"]) == set(LEFT_OVERDUE)
    api = {r["department"]: r for r in _api(stack, "/v1/stats/departments")["departments"]}
    overdue_api = {d for d, r in api.items() if r["overdue"] > 0}
    assert set(LEFT_OVERDUE) <= overdue_api
    page.click("th[data-key=overdue]")  # sorted by overdue, descending (already), toggles
    page.click("th[data-key=overdue]")
    named = page.eval_on_selector_all(
        "#departments tbody tr.overdue", "rows => rows.map(r => r.dataset.department)"
    )
    assert set(named) == overdue_api
    first = page.eval_on_selector_all(
        "#departments tbody tr", "rows => rows.map(r => r.dataset.department)"
    )[: len(named)]
    assert set(first) == overdue_api  # the non-reporting ones come first
    page.click(f"#departments tbody tr[data-department={LEFT_OVERDUE[0]}]")
    page.wait_for_selector("#drill-tasks tbody tr")
    rows = page.eval_on_selector_all("#drill-tasks tbody tr", "rows => rows.length")
    assert rows == api[LEFT_OVERDUE[0]]["overdue"]


def test_a_subject_search_opens_its_timeline_and_the_as_of_slider_travels(
    seeded: tuple[Stack, Any], page: Any
) -> None:
    stack, _ = seeded
    overdue = _api(stack, f"/v1/stats/departments/{LEFT_OVERDUE[0]}/overdue", as_="auditor")
    subject = overdue["tasks"][0]["subject_id"]
    page.fill("#subject-id", subject)
    page.click("#search button[type=submit]")
    page.wait_for_selector("#as-of-status[data-ready='1']")
    bands = page.evaluate(
        "() => window.jsbDashboard.subject.chart.getOption().series[0].data.length"
    )
    events = page.evaluate("() => window.jsbDashboard.subject.events.length")
    assert bands >= 1
    assert events >= 1
    assert page.get_attribute("#verify", "data-ok") == "true"
    # every event is clickable: its payload, position and hash
    page.locator("#chart-timeline").scroll_into_view_if_needed()
    box = page.locator("#chart-timeline").bounding_box()
    x, y = page.evaluate(
        """() => { const v = window.jsbDashboard.subject;
                   const p = v.chart.getOption().series[1].data[0].value;
                   return v.chart.convertToPixel({seriesIndex: 1}, p); }"""
    )
    page.mouse.click(box["x"] + x, box["y"] + y)
    page.wait_for_selector("#event-detail:not([hidden])")
    detail = json.loads(page.inner_text("#event-detail"))
    assert detail["hash"]
    assert detail["position"] >= 1
    assert detail["chain_verifies"] is True

    def shown_states() -> tuple[str, dict[str, str]]:
        as_of = page.get_attribute("#as-of-status", "data-as-of")
        states = page.eval_on_selector_all(
            "#as-of-status [data-designation]",
            "els => Object.fromEntries(els.map(e => [e.dataset.designation, e.dataset.state]))",
        )
        return as_of, states

    now_as_of, now_states = shown_states()
    assert now_states  # in force (or suspended) now
    _shot(page, "timeline", docs="dashboard-timeline.png")
    for position in ("500", "0"):
        page.eval_on_selector(
            "#as-of",
            "(el, v) => { el.value = v; el.dispatchEvent(new Event('input')); }",
            position,
        )
        page.wait_for_selector("#as-of-status[data-ready='1']")
        as_of, states = shown_states()
        assert as_of != now_as_of
        api = _api(stack, f"/v1/subjects/{subject}/status", as_="ops", as_of=as_of)
        assert states == {d["designation_id"]: d["state"] for d in api["designations"]}
    assert shown_states()[1] == {}  # the slider's start is before the first event

    # "known at": back at now on the slider, as the ledger knew it before the demo ran
    page.eval_on_selector(
        "#as-of", "el => { el.value = '1000'; el.dispatchEvent(new Event('input')); }"
    )
    page.wait_for_selector("#as-of-status[data-ready='1']")
    page.fill("#known-at", "2026-01-01T00:00:00")
    page.dispatch_event("#known-at", "change")
    page.wait_for_selector("#as-of-status[data-ready='1'][data-known-at^='2026-01-01']")
    known_at = page.get_attribute("#as-of-status", "data-known-at")
    as_of, states = shown_states()
    api = _api(stack, f"/v1/subjects/{subject}/status", as_="ops", as_of=as_of, known_at=known_at)
    assert states == {d["designation_id"]: d["state"] for d in api["designations"]} == {}


def test_a_new_designation_appears_without_reloading(seeded: tuple[Stack, Any], page: Any) -> None:
    stack, _ = seeded
    page.wait_for_selector("#live-state.on")
    body = {
        "subject": {"id": new_uscc(), "name": "某实时贸易有限公司"},
        "list_type": "tax.major-violation",
        "level": "especially_serious",
        "reason": "虚开增值税专用发票",
        "decision_no": "税稽罚〔2026〕live号",
        "decided_at": "2026-11-20",
    }
    r = httpx.post(
        stack.url("initiator") + "/v1/designations",
        json=body,
        headers={
            "Authorization": f"Bearer {stack.tokens['tax']}",
            "Idempotency-Key": uuid4().hex,
        },
        timeout=30,
    )
    assert r.status_code == 201, r.text
    designation_id = r.json()["designation_id"]
    page.wait_for_selector(f"#live li[data-designation='{designation_id}']", timeout=30_000)
    assert page.evaluate("() => performance.getEntriesByType('navigation').length") == 1
