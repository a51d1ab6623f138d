"""The check bench's baseline: a bare FastAPI endpoint on the same path returning a
constant, served with the same uvicorn settings as the responder. What the server and
the framework cost before the responder does anything."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.responses import ORJSONResponse

app = FastAPI(default_response_class=ORJSONResponse)

_ANSWER = {"decision": "allow", "reasons": [], "check_id": "00000000-0000-0000-0000-000000000000"}


@app.post("/v1/checks")
async def check() -> dict[str, Any]:
    return _ANSWER


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}
