"""The check bench's baseline: a bare FastAPI endpoint on the same path returning a
constant, served with the same uvicorn settings as the responder. What the server and
the framework cost before the responder does anything."""

from __future__ import annotations

import orjson
from fastapi import FastAPI, Response

app = FastAPI()

_ANSWER = {"decision": "allow", "reasons": [], "check_id": "00000000-0000-0000-0000-000000000000"}


@app.post("/v1/checks")
async def check() -> Response:
    return Response(orjson.dumps(_ANSWER), media_type="application/json")


@app.get("/healthz")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}
