"""Bulk import of events from JSON lines or CSV, through the ingestion service in large chunks.

The import is the same use case as `POST /events/batch` (same validation, deduplication and
unmatched flagging), only with chunks of `chunk_size` events (1,000 by default) per transaction
instead of 100, so one commit is paid per thousand events.

Contract (what `releve events import FILE` promises):
- Each chunk is all-or-nothing. A line that is not valid JSON (or CSV cell that is not), or an
  event that fails validation, or a `transaction_id` already stored with a different payload,
  stores **nothing for its chunk**; every error of that chunk is reported with its line number
  (1-based physical line of the file; the CSV header is line 1). The import then goes on with
  the next chunk, and the report lists the line range of every chunk not stored.
- Re-importing a file is safe: events already stored with the same payload are replays and store
  nothing (dedup forever on (organization, transaction_id)). So after fixing a bad line, import
  the whole file again: only the chunks that failed are stored.
- Blank lines are skipped.

JSON lines: one JSON object per line, the Lago event object (`{"transaction_id": …, "code": …}`);
numbers are read exactly (Decimal), as at the API.

CSV: a header row, then one event per row. Columns: `transaction_id`, `external_subscription_id`,
`code`, `timestamp` (Unix seconds or ISO 8601 with an offset), `precise_total_amount_cents`,
`properties` (a JSON object), and `properties.<name>` (one property, kept as the cell's text, as
a Lago client would send a string). An empty cell means the field is absent. Any other column
is refused before anything is read (`ImportFormatError`).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from releve.services import exact_json
from releve.services.errors import ValidationFailed
from releve.services.event_input import parse_event
from releve.services.events import EventService
from releve.services.ports import Clock

DEFAULT_CHUNK = 1000
CSV_FIELDS = frozenset(
    {
        "transaction_id",
        "external_subscription_id",
        "code",
        "timestamp",
        "precise_total_amount_cents",
    }
)
PROPERTY_PREFIX = "properties."


class ImportFormatError(ValueError):
    """The file cannot be read at all (e.g. an unknown CSV column); nothing was imported."""


@dataclass(frozen=True, slots=True)
class LineError:
    line: int
    errors: dict[str, Any]


@dataclass(frozen=True, slots=True)
class _Unreadable:
    """A line that could not be turned into an event object (bad JSON, bad CSV cell)."""

    errors: dict[str, Any]


@dataclass(slots=True)
class ImportReport:
    """What an import did. `ok` is False when any chunk was not stored."""

    events: int = 0
    inserted: int = 0
    failed_chunks: list[tuple[int, int]] = field(default_factory=list)
    errors: list[LineError] = field(default_factory=list)
    stored_chunk_events: int = 0

    @property
    def replayed(self) -> int:
        """Events of stored chunks that were already stored (same payload): nothing written."""
        return self.stored_chunk_events - self.inserted

    @property
    def ok(self) -> bool:
        return not self.failed_chunks


class EventImportService:
    def __init__(self, events: EventService, clock: Clock, chunk_size: int = DEFAULT_CHUNK) -> None:
        if chunk_size < 1:
            raise ValueError("chunk_size must be at least 1")
        self._events = events
        self._clock = clock
        self.chunk_size = chunk_size

    def import_jsonl(
        self,
        organization_id: UUID,
        lines: Iterable[str],
        progress: Callable[[int], None] | None = None,
    ) -> ImportReport:
        """Import JSON lines; `progress(n)` is called after each chunk with its event count."""
        return self._import(organization_id, read_jsonl(lines), progress)

    def import_csv(
        self,
        organization_id: UUID,
        lines: Iterable[str],
        progress: Callable[[int], None] | None = None,
    ) -> ImportReport:
        """Import CSV with a header row (see the module docstring for the columns)."""
        return self._import(organization_id, read_csv(lines), progress)

    def _import(
        self,
        organization_id: UUID,
        records: Iterable[tuple[int, Any]],
        progress: Callable[[int], None] | None,
    ) -> ImportReport:
        report = ImportReport()
        chunk: list[tuple[int, Any]] = []
        for record in records:
            chunk.append(record)
            if len(chunk) >= self.chunk_size:
                self._chunk(organization_id, chunk, report)
                if progress:
                    progress(len(chunk))
                chunk = []
        if chunk:
            self._chunk(organization_id, chunk, report)
            if progress:
                progress(len(chunk))
        return report

    def _chunk(
        self, organization_id: UUID, chunk: list[tuple[int, Any]], report: ImportReport
    ) -> None:
        report.events += len(chunk)
        line_of = [line for line, _ in chunk]
        if any(isinstance(raw, _Unreadable) for _, raw in chunk):
            # Report every problem of the chunk (unreadable lines and invalid events) at once;
            # parse_event is pure, so checking the readable ones stores nothing.
            now = self._clock.now()
            for line, raw in chunk:
                problems = raw.errors if isinstance(raw, _Unreadable) else parse_event(raw, now)
                if isinstance(problems, dict):
                    report.errors.append(LineError(line, problems))
            report.failed_chunks.append((line_of[0], line_of[-1]))
            return
        try:
            result = self._events.ingest_batch(
                organization_id, [raw for _, raw in chunk], max_batch=len(chunk)
            )
        except ValidationFailed as exc:
            for key, problems in sorted(
                exc.error_details.items(), key=lambda kv: int(kv[0]) if kv[0].isdigit() else -1
            ):
                line = line_of[int(key)] if key.isdigit() else line_of[0]
                report.errors.append(
                    LineError(line, problems if key.isdigit() else {key: problems})
                )
            report.failed_chunks.append((line_of[0], line_of[-1]))
            return
        report.inserted += result.inserted
        report.stored_chunk_events += len(chunk)


def read_jsonl(lines: Iterable[str]) -> Iterator[tuple[int, Any]]:
    """(line number, event object or _Unreadable) for each non-blank line."""
    for number, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        try:
            yield number, exact_json.loads(text)
        except (json.JSONDecodeError, ValueError):
            yield number, _Unreadable({"event": ["invalid_json"]})


def read_csv(lines: Iterable[str]) -> Iterator[tuple[int, Any]]:
    """(line number, event object or _Unreadable) for each data row; raises on a bad header."""
    reader = csv.reader(iter(lines))
    header = next(reader, None)
    if header is None:
        return
    names = [h.strip() for h in header]
    unknown = [
        n for n in names if n not in CSV_FIELDS and n != "properties" and not _property_column(n)
    ]
    if unknown:
        raise ImportFormatError(f"unknown CSV column(s): {', '.join(unknown)}")
    for row in reader:
        number = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(names):
            yield number, _Unreadable({"row": ["wrong_number_of_columns"]})
            continue
        event: dict[str, Any] = {}
        properties: dict[str, Any] = {}
        bad: dict[str, list[str]] = {}
        for name, cell in zip(names, row, strict=True):
            if cell == "":
                continue
            if name == "properties":
                try:
                    parsed = exact_json.loads(cell)
                except (json.JSONDecodeError, ValueError):
                    bad["properties"] = ["invalid_json"]
                    continue
                if not isinstance(parsed, dict):
                    bad["properties"] = ["value_is_invalid"]
                    continue
                properties = {**parsed, **properties}
            elif name.startswith(PROPERTY_PREFIX):
                properties[name[len(PROPERTY_PREFIX) :]] = cell
            else:
                event[name] = cell
        if bad:
            yield number, _Unreadable(bad)
            continue
        if properties:
            event["properties"] = properties
        yield number, event


def _property_column(name: str) -> bool:
    return name.startswith(PROPERTY_PREFIX) and len(name) > len(PROPERTY_PREFIX)
