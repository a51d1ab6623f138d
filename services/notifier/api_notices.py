"""`GET /v1/notices`: notices to subjects, departments and ops."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request

from services.notifier.ports import NoticeQuery, WebhookStore
from services.notifier.schemas import NoticePublic
from shared.domain.identifiers import display
from shared.web.deps import CurrentPrincipal
from shared.web.limits import MAX_ROW_ID

router = APIRouter(prefix="/v1/notices", tags=["notices"])


@router.get("", response_model=list[NoticePublic])
async def find(
    request: Request,
    principal: CurrentPrincipal,
    subject_id: str | None = None,
    department: str | None = None,
    kind: str | None = None,
    after: int = Query(0, ge=0, le=MAX_ROW_ID, description="notices with a greater id"),
    limit: int = Query(100, ge=1, le=1000),
) -> list[NoticePublic]:
    """Notices by subject, department and kind; a department sees its own, ops and
    auditors see all."""
    query = NoticeQuery(
        visible_to=principal.department,
        department=department,
        subject_id=subject_id.strip().upper() if subject_id else None,
        kind=kind,
        after=after,
        limit=limit,
    )
    store: WebhookStore = request.app.state.webhooks
    async with store.begin() as tx:
        rows = await tx.notices.find(query)
    clear = principal.sees_identity_numbers
    return [
        NoticePublic(
            **{k: r[k] for k in NoticePublic.model_fields if k not in ("subject_id", "recipient")},
            subject_id=None if r["subject_id"] is None else display(r["subject_id"], clear),
            recipient=display(r["recipient"], clear)
            if r["audience"] == "subject"
            else r["recipient"],
        )
        for r in rows
    ]
