"""The committed contract in docs/ equals a fresh export; `jsb schemas` works."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from typer.testing import CliRunner

from shared.cli import schemas_cmd
from shared.cli.main import app
from shared.domain.events import EVENT_TYPES

DOCS = Path(__file__).resolve().parents[2] / "docs"
runner = CliRunner()


def test_committed_schemas_equal_a_fresh_export() -> None:
    assert schemas_cmd.stale(DOCS) == [], "run `jsb schemas export` and commit docs/"


def test_every_event_type_has_a_schema_of_its_envelope() -> None:
    files = schemas_cmd.render()
    for event_type, model in EVENT_TYPES.items():
        schema = json.loads(files[f"schemas/{event_type}.v{model.VERSION}.json"])
        assert schema["properties"]["type"]["const"] == event_type
        assert schema["properties"]["schemaversion"]["const"] == model.VERSION
        assert schema["properties"]["data"]["$ref"] == f"#/$defs/{model.__name__}"
        assert {"id", "type", "source", "subject", "time", "data"} <= set(schema["required"])
    assert "schemas/jsb.designation.revoked.v1.json" in files  # legacy versions stay
    assert "schemas/jsb.status.changed.v1.json" in files


def test_asyncapi_describes_the_four_topics_keyed_by_subject() -> None:
    doc = yaml.safe_load(schemas_cmd.render()["asyncapi.yaml"])
    assert doc["asyncapi"] == "2.6.0"
    assert set(doc["channels"]) == {
        "jsb.designations.v1",
        "jsb.feedback.v1",
        "jsb.status.v1",
        "jsb.deadletter.v1",
    }
    feedback = doc["channels"]["jsb.feedback.v1"]["subscribe"]["message"]["oneOf"]
    assert len(feedback) == 8  # seven single reports and the batch
    for message in doc["components"]["messages"].values():
        assert message["bindings"]["kafka"]["key"]["type"] == "string"
    ref = doc["components"]["messages"]["jsb.designation.issued.v1"]["payload"]["$ref"]
    assert (DOCS / ref).is_file()


def test_export_then_check_and_stale_files(tmp_path: Path) -> None:
    result = runner.invoke(app, ["schemas", "export", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert "wrote 25 files" in result.output
    ok = runner.invoke(app, ["schemas", "check", "--out", str(tmp_path)])
    assert ok.exit_code == 0
    assert "up to date" in ok.output
    (tmp_path / "schemas" / "jsb.old.thing.v1.json").write_text("{}")
    (tmp_path / "asyncapi.yaml").write_text("stale")
    bad = runner.invoke(app, ["schemas", "check", "--out", str(tmp_path)])
    assert bad.exit_code == 1
    assert "jsb.old.thing.v1.json" in bad.output
    assert "asyncapi.yaml" in bad.output
    runner.invoke(app, ["schemas", "export", "--out", str(tmp_path)])
    assert not (tmp_path / "schemas" / "jsb.old.thing.v1.json").exists()
    assert schemas_cmd.stale(tmp_path) == []


def test_check_on_an_empty_directory_lists_everything(tmp_path: Path) -> None:
    assert len(schemas_cmd.stale(tmp_path)) == len(schemas_cmd.render())
