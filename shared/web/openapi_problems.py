"""Every service's OpenAPI tells the truth about refusals: FastAPI documents a 422 as
`HTTPValidationError` (`{"detail": [...]}`), but every refusal here is an RFC 9457
problem (`application/problem+json`, shared/web/problems.py). The published document
says so for 422 and for every other 4XX, so clients (and schemathesis) can hold the
answers to it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI

from shared.web.problems import PROBLEM_JSON

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "type": "object",
    "description": "RFC 9457 problem details; `errors` names each bad field.",
    "required": ["type", "title", "status", "detail", "errors"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "code", "message"],
                "properties": {
                    "field": {"type": "string"},
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                },
            },
        },
    },
}
_REF = {"$ref": "#/components/schemas/Problem"}


def _problem_response(description: str) -> dict[str, Any]:
    return {"description": description, "content": {PROBLEM_JSON: {"schema": _REF}}}


def document_problems(app: FastAPI) -> None:
    """Make `app.openapi()` describe 422 and the other 4XX answers as problems."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = generate()
        schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
        for item in schema.get("paths", {}).values():
            for operation in item.values():
                responses = operation.setdefault("responses", {})
                if "422" in responses:
                    responses["422"] = _problem_response("The request is invalid: a problem")
                responses.setdefault("4XX", _problem_response("Refused: a problem"))
        schemas = schema["components"]["schemas"]
        text = str(schema.get("paths", {}))
        for unused in ("HTTPValidationError", "ValidationError"):
            if unused in schemas and f"schemas/{unused}'" not in text:
                del schemas[unused]
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
