"""Bulk import (`releve events import`): JSON lines and CSV, dedup on re-import, chunk errors.

The contract (releve.services.event_import): each chunk is all-or-nothing; every error is
reported with its 1-based line number; the import goes on with the next chunk; re-importing
the same file stores only what is missing.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from uuid import UUID

import pytest
from typer.testing import CliRunner

from releve.bootstrap import Container
from releve.entrypoints.cli import app
from releve.services.event_import import EventImportService, ImportFormatError
from releve.services.pagination import PageRequest
from releve.services.ports import EventFilter

pytestmark = pytest.mark.store


def line(tx: str, **over: object) -> str:
    event = {
        "transaction_id": tx,
        "external_subscription_id": "sub_1",
        "code": "calls",
        "timestamp": 1_700_000_000,
        "properties": {"gb": 0.1},
        **over,
    }
    return json.dumps(event) + "\n"


def stored(container: Container, org: UUID) -> int:
    return container.events.list(org, EventFilter(), PageRequest()).total_count


@pytest.fixture
def importer(container: Container) -> EventImportService:
    return EventImportService(container.events, container.clock, chunk_size=3)


def test_jsonl_import_is_exact_and_reimport_stores_nothing(
    container: Container, org: tuple[UUID, str], importer: EventImportService
) -> None:
    lines = [line(f"t{i}") for i in range(7)]
    first = importer.import_jsonl(org[0], lines)
    assert (first.events, first.inserted, first.ok) == (7, 7, True)
    assert container.events.get(org[0], "t0").properties == {"gb": Decimal("0.1")}
    again = importer.import_jsonl(org[0], lines)
    assert (again.inserted, again.replayed, again.ok) == (0, 7, True)
    assert stored(container, org[0]) == 7


def test_bad_line_fails_only_its_chunk_with_line_numbers(
    container: Container, org: tuple[UUID, str], importer: EventImportService
) -> None:
    # Chunks of 3 events: lines 1-3, 4-6 (line 5 is blank, so 4-7), 8.
    lines = [
        line("a1"),
        line("a2"),
        line("a3"),
        line("b1"),
        "\n",
        "{not json\n",
        line("b3", timestamp="yesterday"),
        line("c1"),
    ]
    report = importer.import_jsonl(org[0], lines)
    assert not report.ok
    assert report.failed_chunks == [(4, 7)]
    assert [(e.line, e.errors) for e in report.errors] == [
        (6, {"event": ["invalid_json"]}),
        (7, {"timestamp": ["invalid_format"]}),
    ]
    assert (report.events, report.inserted) == (7, 4)
    assert stored(container, org[0]) == 4  # nothing of b1..b3

    fixed = [*lines[:5], line("b2"), line("b3"), lines[7]]
    retry = importer.import_jsonl(org[0], fixed)
    assert (retry.ok, retry.inserted, retry.replayed) == (True, 3, 4)
    assert stored(container, org[0]) == 7


def test_conflicting_transaction_id_is_reported_on_its_line(
    container: Container, org: tuple[UUID, str], importer: EventImportService
) -> None:
    importer.import_jsonl(org[0], [line("x")])
    report = importer.import_jsonl(org[0], [line("y"), line("x", properties={"gb": 2})])
    assert report.failed_chunks == [(1, 2)]
    assert [(e.line, e.errors) for e in report.errors] == [
        (2, {"transaction_id": ["value_already_exist"]})
    ]
    assert stored(container, org[0]) == 1


def test_csv_columns_and_errors(
    container: Container, org: tuple[UUID, str], importer: EventImportService
) -> None:
    text = (
        "transaction_id,external_subscription_id,code,timestamp,properties,properties.region\n"
        'c1,sub_1,calls,1700000000,"{""gb"": 1.5}",eu\n'
        "c2,sub_1,calls,2024-01-01T00:00:00+01:00,,us\n"
        "c3,sub_1,calls,,,\n"
        "c4,sub_1,calls,1700000000,{bad,eu\n"
    )
    report = importer.import_csv(org[0], text.splitlines(keepends=True))
    assert report.failed_chunks == [(5, 5)]
    assert [(e.line, e.errors) for e in report.errors] == [(5, {"properties": ["invalid_json"]})]
    c1 = container.events.get(org[0], "c1")
    assert c1.properties == {"gb": Decimal("1.5"), "region": "eu"}
    assert container.events.get(org[0], "c2").timestamp.isoformat() == "2023-12-31T23:00:00+00:00"
    assert container.events.get(org[0], "c3").properties == {}
    again = importer.import_csv(org[0], text.splitlines(keepends=True)[:4])
    assert (again.inserted, again.replayed) == (0, 3)


def test_csv_unknown_column_is_refused_before_anything_is_stored(
    container: Container, org: tuple[UUID, str], importer: EventImportService
) -> None:
    with pytest.raises(ImportFormatError, match="colour"):
        importer.import_csv(org[0], ["transaction_id,code,colour\n", "t1,calls,red\n"])
    assert stored(container, org[0]) == 0


def test_cli_import_jsonl_then_csv(
    database_url: str,
    container: Container,
    org: tuple[UUID, str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("RELEVE_DATABASE_URL", database_url)
    jsonl = tmp_path / "events.jsonl"
    jsonl.write_text("".join(line(f"j{i}") for i in range(5)) + line("bad", code=""))
    result = CliRunner().invoke(app, ["events", "import", str(jsonl), "--api-key", org[1]])
    assert result.exit_code == 1, result.output
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary == {"events": 6, "inserted": 0, "replayed": 0, "failed_chunks": [[1, 6]]}
    assert "line 6:" in result.stderr and "value_is_mandatory" in result.stderr

    jsonl.write_text("".join(line(f"j{i}") for i in range(5)))
    ok = CliRunner().invoke(app, ["events", "import", str(jsonl), "--api-key", org[1]])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.stdout.strip().splitlines()[-1])["inserted"] == 5

    csv_file = tmp_path / "events.csv"
    csv_file.write_text("transaction_id,external_subscription_id,code\nk1,sub_1,calls\n")
    ok_csv = CliRunner().invoke(
        app, ["events", "import", str(csv_file), "--api-key", org[1], "--chunk-size", "10"]
    )
    assert ok_csv.exit_code == 0, ok_csv.output
    assert stored(container, org[0]) == 6

    denied = CliRunner().invoke(app, ["events", "import", str(csv_file), "--api-key", "rlv_x"])
    assert denied.exit_code == 2
