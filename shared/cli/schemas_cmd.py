"""`jsb schemas export|check`: the event contract as JSON Schema and AsyncAPI, in docs/.

Other departments' systems (courts, tax) are written in other languages: they code
against docs/schemas/<type>.v<version>.json (the CloudEvents envelope with that
event's data) and docs/asyncapi.yaml (topics, keys, messages). Both are generated from
the pydantic models, committed, and checked by a unit test, so they never go stale.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal
from uuid import UUID

import typer
import yaml
from pydantic import BaseModel, create_model

from shared.adapters.topics import DEADLETTER, DESIGNATIONS, FEEDBACK, STATUS
from shared.domain.envelope import Envelope, dataschema_uri
from shared.domain.events import EVENT_TYPES, Family
from shared.domain.status_view import StatusChanged
from shared.domain.upcasting import LEGACY_MODELS

app = typer.Typer(no_args_is_help=True)

SCHEMA_DIR = "schemas"
ASYNCAPI = "asyncapi.yaml"
_JSON_SCHEMA = "https://json-schema.org/draft/2020-12/schema"
_TOPICS = {Family.LIFECYCLE: DESIGNATIONS, Family.FEEDBACK: FEEDBACK}
_DEADLETTER_HEADERS = {
    "jsb-reason": (
        "why the message could not be applied (unparseable, unknown type, invalid, "
        "too large, wrong key)"
    ),
    "jsb-consumer": "the consumer that gave up on it",
    "jsb-consumer-group": "that consumer's Kafka consumer group",
    "jsb-source-topic": "topic the message was read from",
    "jsb-source-partition": "its partition",
    "jsb-source-offset": "its offset",
}


def _messages() -> list[tuple[str, int, type[BaseModel], str]]:
    """(type, version, data model, topic) of every message, current and legacy."""
    found: list[tuple[str, int, type[BaseModel], str]] = [
        (t, m.VERSION, m, _TOPICS[m.FAMILY]) for t, m in EVENT_TYPES.items()
    ]
    for legacy in LEGACY_MODELS:
        event_type, version = getattr(legacy, "TYPE"), getattr(legacy, "VERSION")  # noqa: B009
        found.append((event_type, version, legacy, _TOPICS[EVENT_TYPES[event_type].FAMILY]))
    found.append((StatusChanged.TYPE, StatusChanged.VERSION, StatusChanged, STATUS))
    return sorted(found, key=lambda item: (item[3], item[0], item[1]))


def _file_name(event_type: str, version: int) -> str:
    return f"{event_type}.v{version}.json"


def envelope_schema(event_type: str, version: int, data: type[BaseModel]) -> dict[str, Any]:
    """JSON Schema of the CloudEvents envelope carrying `data` of one type and version."""
    uri = dataschema_uri(event_type, version)
    fields: dict[str, Any] = {  # CloudEvents: id, source, specversion, type are required
        "specversion": (Literal["1.0"], ...),
        "id": (UUID, ...),
        "type": (Literal[event_type], ...),
        "schemaversion": (Literal[version], version),
        "dataschema": (Literal[uri], uri),
        "data": (data, ...),
    }
    model = create_model(
        data.__name__ + "Envelope",
        __base__=Envelope,
        __doc__=(data.__doc__ or event_type).strip(),
        **fields,
    )
    schema: dict[str, Any] = model.model_json_schema(mode="serialization")
    return {"$schema": _JSON_SCHEMA, "$id": dataschema_uri(event_type, version), **schema}


def asyncapi() -> dict[str, Any]:
    """AsyncAPI 2.6 document of the four topics; payloads refer to docs/schemas/."""
    messages: dict[str, Any] = {}
    channels: dict[str, Any] = {}
    key = {"type": "string", "description": "the subject id (USCC or resident id)"}
    for event_type, version, data, topic in _messages():
        name = f"{event_type}.v{version}"
        messages[name] = {
            "name": event_type,
            "title": f"{event_type} (version {version})",
            "summary": (data.__doc__ or event_type).strip().splitlines()[0],
            "contentType": "application/cloudevents+json",
            "payload": {"$ref": f"./{SCHEMA_DIR}/{_file_name(event_type, version)}"},
            "bindings": {"kafka": {"key": dict(key), "bindingVersion": "0.4.0"}},
        }
        channel = channels.setdefault(topic, {"subscribe": {"message": {"oneOf": []}}})
        channel["subscribe"]["message"]["oneOf"].append({"$ref": f"#/components/messages/{name}"})
    messages["deadletter"] = {
        "name": "deadletter",
        "title": "A poison message, as it was read",
        "summary": "The original bytes of a message no consumer could apply.",
        "contentType": "application/octet-stream",
        "headers": {
            "type": "object",
            "properties": {
                h: {"type": "string", "description": d} for h, d in _DEADLETTER_HEADERS.items()
            },
        },
        "payload": {"type": "string", "format": "binary"},
        "bindings": {"kafka": {"key": dict(key), "bindingVersion": "0.4.0"}},
    }
    channels[DEADLETTER] = {"subscribe": {"message": {"$ref": "#/components/messages/deadletter"}}}
    descriptions = {
        DESIGNATIONS: "Designation lifecycle events, written by the initiator.",
        FEEDBACK: "Execution feedback (执行反馈), written by the responders.",
        STATUS: "A subject's status after each change, written by the ledger (compacted).",
        DEADLETTER: "Messages a consumer could not apply, with the reason in headers.",
    }
    for topic, channel in channels.items():
        channel["description"] = descriptions[topic]
        channel["bindings"] = {"kafka": {"topic": topic, "bindingVersion": "0.4.0"}}
    return {
        "asyncapi": "2.6.0",
        "id": "urn:jsb:backbone",
        "info": {
            "title": "Joint incentives and sanctions backbone",
            "version": "1.0.0",
            "description": (
                "Every message is a CloudEvents 1.0 envelope in structured JSON mode, keyed "
                "by subject id, so that events about one subject stay in order within a "
                "topic. Old versions are upcast by readers; stored events are never rewritten."
            ),
        },
        "defaultContentType": "application/cloudevents+json",
        "channels": dict(sorted(channels.items())),
        "components": {"messages": messages},
    }


def render() -> dict[str, str]:
    """Every generated file: path under docs/ → its text."""
    files = {
        f"{SCHEMA_DIR}/{_file_name(t, v)}": json.dumps(
            envelope_schema(t, v, data), indent=2, ensure_ascii=False
        )
        + "\n"
        for t, v, data, _ in _messages()
    }
    files[ASYNCAPI] = yaml.safe_dump(asyncapi(), sort_keys=False, allow_unicode=True, width=100)
    return files


def stale(out: Path) -> list[str]:
    """Generated files missing or different under `out`, and stray schema files."""
    files = render()
    problems = [p for p, text in files.items() if _read(out / p) != text]
    schema_dir = out / SCHEMA_DIR
    present = sorted(schema_dir.glob("*.json")) if schema_dir.is_dir() else []
    problems += [f"{SCHEMA_DIR}/{p.name}" for p in present if f"{SCHEMA_DIR}/{p.name}" not in files]
    return sorted(problems)


def _read(path: Path) -> str | None:
    return path.read_text(encoding="utf-8") if path.is_file() else None


@app.command()
def export(
    out: Path = typer.Option(Path("docs"), "--out", help="Directory to write into."),
) -> None:
    """Write docs/schemas/<type>.v<version>.json and docs/asyncapi.yaml."""
    files = render()
    (out / SCHEMA_DIR).mkdir(parents=True, exist_ok=True)
    for stray in stale(out):
        if stray not in files:
            (out / stray).unlink()
    for path, text in files.items():
        (out / path).write_text(text, encoding="utf-8")
    typer.echo(f"wrote {len(files)} files under {out}/")


@app.command()
def check(
    out: Path = typer.Option(Path("docs"), "--out", help="Directory to compare with."),
) -> None:
    """Exit 1 when the committed schemas differ from a fresh export."""
    problems = stale(out)
    for path in problems:
        typer.echo(f"stale: {out / path}", err=True)
    if problems:
        typer.echo("run `jsb schemas export` and commit docs/", err=True)
        raise typer.Exit(1)
    typer.echo("schemas are up to date")
