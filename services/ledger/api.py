"""The ledger's HTTP reads (issue 4 §6), one router per concern."""

from __future__ import annotations

from fastapi import APIRouter

from services.ledger import api_designations, api_feed, api_public, api_stats, api_subjects

router = APIRouter(prefix="/v1")
for sub in (api_subjects, api_designations, api_feed, api_public, api_stats):
    router.include_router(sub.router)
