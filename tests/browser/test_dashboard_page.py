"""The dashboard page alone in headless Debian chromium, its API answered by canned
documents (Playwright's request routing): fast, no stack. The timeline draws a band per
state span — including the open ones that reach now — and a point per event; no
script error. The whole page against the real services: tests/e2e/test_dashboard_browser.py."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from shared.adapters.settings import PROJECT_ROOT

CHROMIUM = Path("/usr/bin/chromium")
STATIC = PROJECT_ROOT / "services" / "ledger" / "dashboard" / "static"
ECHARTS = PROJECT_ROOT / "node_modules" / "echarts" / "dist" / "echarts.esm.min.js"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
NOW = "2026-11-27T14:00:00+00:00"
TIMELINE = {
    "subject_id": "S1",
    "as_of": NOW,
    "designations": [
        {
            "designation_id": "d1",
            "list_type": "tax.major-violation",
            "level": "especially_serious",
            "designated_by": "tax",
        },
        {
            "designation_id": "d2",
            "list_type": "court.dishonest-debtor",
            "level": "especially_serious",
            "designated_by": "court",
        },
    ],
    "bands": {
        "d1": [
            {
                "state": "in_force",
                "from": "2026-11-10T00:00:00+00:00",
                "until": "2026-11-15T00:00:00+00:00",
            },
            {"state": "suspended", "from": "2026-11-15T00:00:00+00:00", "until": None},
        ],
        "d2": [
            {
                "state": "in_force",
                "from": "2026-11-12T00:00:00+00:00",
                "until": "2026-11-20T00:00:00+00:00",
            },
            {"state": "revoked", "from": "2026-11-20T00:00:00+00:00", "until": None},
        ],
    },
}
EVENT = {
    "position": 7,
    "stream_version": 1,
    "type": "jsb.designation.issued",
    "effective_at": "2026-11-10T00:00:00+00:00",
    "recorded_at": NOW,
    "prev_hash": "0" * 64,
    "hash": "ab" * 32,
    "event": {"data": {"designation_id": "d1"}},
}


def _answer(url: str) -> Any:
    if "/timeline" in url:
        return TIMELINE
    if "/history/verify" in url:
        return {"ok": True}
    if "/history" in url:
        return {"subject_id": "S1", "events": [EVENT]}
    if "/status" in url:
        return {
            "restricted": True,
            "designations": [
                {"designation_id": "d1", "list_type": "tax.major-violation", "state": "suspended"}
            ],
        }
    if "/stats/tiles" in url:
        return {
            "subjects_under_sanction": 3,
            "tasks_overdue": 2,
            "designations_in_force": 4,
            "designations_in_force_by_list_type": {"tax.major-violation": 4},
        }
    if "/daily" in url:
        return {"days": ["2026-11-26", "2026-11-27"], "series": {"tax.major-violation": [2, 1]}}
    if "/stats/departments" in url:
        return {
            "departments": [
                {
                    "department": "mnr",
                    "assigned": 4,
                    "answered": 1,
                    "unanswered": 3,
                    "overdue": 3,
                    "median_feedback_seconds": 7200.0,
                }
            ]
        }
    raise AssertionError(url)


def _route(route: Any) -> None:
    url = route.request.url
    if url.endswith("/dashboard"):
        route.fulfill(path=str(STATIC / "index.html"), content_type="text/html")
    elif "/dashboard/assets/" in url:
        name = url.rsplit("/", 1)[1]
        path = ECHARTS if name.startswith("echarts") else STATIC / name
        kind = "text/css" if name.endswith(".css") else "text/javascript"
        route.fulfill(path=str(path), content_type=kind)
    elif "/stats/stream" in url:
        route.fulfill(
            body='event: hello\nid: 1\ndata: {"head": 1}\n\n', content_type="text/event-stream"
        )
    else:
        route.fulfill(body=json.dumps(_answer(url)), content_type="application/json")


@pytest.fixture
def page() -> Iterator[Any]:
    if not CHROMIUM.exists() or not ECHARTS.exists():
        pytest.fail("run deploy/scripts/tools.sh and deploy/scripts/frontend.sh (make test does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.route("http://dashboard.test/**", _route)
        page.goto("http://dashboard.test/dashboard")
        page.fill("#token", "a-token")
        page.click("#login button[type=submit]")
        page.wait_for_selector("body[data-loaded]")
        yield page
        browser.close()
        assert not errors, errors


def test_tiles_table_and_a_timeline_with_every_band_drawn(page: Any) -> None:
    assert page.inner_text("[data-tile=tasks_overdue] .value") == "2"
    assert page.get_attribute("#departments tbody tr", "class") == "overdue"
    page.fill("#subject-id", "S1")
    page.click("#search button[type=submit]")
    page.wait_for_selector("#as-of-status[data-ready='1']")
    drawn = page.evaluate(
        """() => window.jsbDashboard.subject.chart.getZr().storage.getDisplayList()
                 .filter(e => e.type === 'rect').length"""
    )
    assert drawn == 4  # two closed spans, two open up to now
    legend = page.eval_on_selector_all(
        "#band-legend [data-state]", "els => els.map(e => e.dataset.state)"
    )
    assert set(legend) == {"in_force", "suspended", "revoked"}
    assert page.get_attribute("#as-of-status [data-designation=d1]", "data-state") == "suspended"
    assert page.inner_text("#band-legend [data-state=revoked]") == "撤销"
    page.click("#lang")
    page.wait_for_function("document.querySelector('h1').textContent.startsWith('Joint')")
    page.wait_for_function(
        "document.querySelector('#band-legend [data-state=revoked]')?.textContent === 'revoked'"
    )
