"""Reads the monthly report's inputs from the notifier's tables."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncConnection

from services.notifier import report, tables
from shared.domain.errors import InvalidRequest

MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def check_month(month: str) -> str:
    if not MONTH.match(month):
        raise InvalidRequest("invalid_month", "month", "a month is written YYYY-MM")
    return month


async def monthly(conn: AsyncConnection, month: str) -> dict[str, Any]:
    check_month(month)
    statuses = (r.status for r in await conn.execute(select(tables.subject_latest.c.status)))
    i = tables.interceptions
    counts = {
        str(r[0]): int(r[1])
        for r in await conn.execute(select(i.c.measure, i.c.count).where(i.c.month == month))
    }
    return report.monthly(month, list(statuses), counts)
