"""The monthly report's inputs, read through the `SubjectViews` port (ports.py): the
latest status of every subject seen, the month's interceptions by measure."""

from __future__ import annotations

import re
from typing import Any

from services.notifier import report
from services.notifier.ports import SubjectViews
from shared.domain.errors import InvalidRequest

MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def check_month(month: str) -> str:
    if not MONTH.match(month):
        raise InvalidRequest("invalid_month", "month", "a month is written YYYY-MM")
    return month


async def monthly(views: SubjectViews, month: str) -> dict[str, Any]:
    check_month(month)
    return report.monthly(month, await views.statuses(), await views.interceptions(month))
