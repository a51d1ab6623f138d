"""`GET /v1/reports/monthly?month=YYYY-MM` (ops, auditor)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Query, Request, Response

from services.notifier import report, report_store
from services.notifier.access import OpsOrAuditor
from services.notifier.ports import WebhookStore

router = APIRouter(prefix="/v1/reports", tags=["reports"])


@router.get("/monthly", response_model=None)
async def monthly(
    request: Request,
    _: OpsOrAuditor,
    month: str = Query(..., description="YYYY-MM (China time)"),
    format: Literal["json", "csv", "md"] = "json",
) -> dict[str, Any] | Response:
    """Designations by list type, feedback per department, objections, repairs,
    interceptions per measure, for one month."""
    store: WebhookStore = request.app.state.webhooks
    async with store.begin() as tx:
        answer = await report_store.monthly(tx.views, month)
    if format == "csv":
        return Response(report.to_csv(answer), media_type="text/csv")
    if format == "md":
        return Response(report.to_markdown(answer), media_type="text/markdown")
    return answer
