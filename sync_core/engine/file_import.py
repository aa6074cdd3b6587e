"""Importing files into the event store: records (CSV, JSON Lines) and webhook events (JSON, JSON Lines).

Files are read as a stream and written in chunks, so a million-row backfill takes the memory of one chunk.
Every row ends up stored: as a staged event, or as a rejected one with the reason and where it was. Staged rows
wait for a person to start a dry run or a sync of them (the worker syncs only webhook events at once, PRODUCT §3).
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from storage.events import EventStore, NewEvent
from storage.statuses import EventStatus
from sync_core.domain.config import SyncConfig
from sync_core.domain.evaluation import Evaluator
from sync_core.domain.events import PARTNER, RECORDS, NormalizedEvent, RejectedInput
from sync_core.domain.matching import EventTypeMatcher
from sync_core.domain.sources import detect_source, iter_csv_records, normalize_input
from sync_core.domain.sources.body import as_bytes, body_id, decode_object
from sync_core.domain.sources.records import EMAIL_COLUMNS, NO_EMAIL_COLUMN, column_name, guess_kind

CHUNK = 2000
Item = NormalizedEvent | RejectedInput
RECORD_FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json"}


@dataclass(slots=True)
class ImportSummary:
    name: str
    read: int = 0  # rows or events read
    stored: int = 0  # new staged events (they wait for a person to start a dry run or a sync)
    duplicates: int = 0  # already stored before (same source and id)
    requeued: int = 0  # of the duplicates, those synced to another account: waiting again for this one
    rejected: int = 0  # stored with the reason they cannot be synced
    invalid: int = 0  # read, but the sync would mark them invalid (a bad email, a value that does not fit)
    problems: list[str] = field(default_factory=list)  # the first few reasons, with where, for the user

    @property
    def with_problems(self) -> int:
        return self.rejected + self.invalid

    def describe(self) -> str:
        text = f"{self.name}: {self.read:,} read, {self.stored:,} new, {self.duplicates:,} already known"
        if self.rejected or not self.invalid:
            text += f", {self.rejected:,} rejected"
        if self.invalid:
            text += f", {self.invalid:,} invalid (kept, but not synced until the file or the field mapping is fixed)"
        if self.requeued:
            text += f" ({self.requeued:,} synced to another account wait again for this one)"
        return text + "".join(f"\n  - {problem}" for problem in self.problems)


def _file_format(name: str, given: str | None) -> str:
    """The format given, else the one the file's name says; a ``ValueError`` in words when neither tells."""
    file_format = given or RECORD_FORMATS.get(Path(name).suffix.lower())
    if file_format not in ("csv", "jsonl", "json"):
        raise ValueError(f"{name}: cannot tell the format; use a .csv, .jsonl or .json file")
    return file_format


def import_file(
    events: EventStore,
    stream: IO[bytes] | Path | str,
    *,
    name: str | None = None,
    kind: str | None = None,
    file_format: str | None = None,
    progress: Callable[[ImportSummary], None] | None = None,
    account: str | None = None,
    config: SyncConfig | None = None,
    email_column: str | None = None,
) -> ImportSummary:
    """Store every row or event of a file. ``file_format`` is csv, jsonl or json (default: from the name).
    ``account`` (the key of the account in use) makes rows already synced to another account wait again.

    With the configuration in force, rows it would mark invalid (a value that does not fit its field's type)
    are reported too; rows without a valid email always are."""
    if isinstance(stream, (str, Path)):
        path = Path(stream)
        with path.open("rb") as handle:
            return import_file(
                events,
                handle,
                name=name or path.name,
                kind=kind,
                file_format=file_format,
                progress=progress,
                account=account,
                config=config,
                email_column=email_column,
            )
    name = name or "upload"
    file_format = _file_format(name, file_format)
    summary = ImportSummary(name)
    received_at = datetime.now(UTC)
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="replace", newline="")
    items = _file_items(text, file_format, kind, received_at, email_column)
    check = _invalid_check(config)
    chunk: list[NewEvent] = []
    for item, raw in items:
        if file_format == "csv" and isinstance(item, RejectedInput) and item.position == "row 1":
            text.detach()
            raise ValueError(f"{name}: {item.reason}. Nothing was imported.")  # the header: the whole file
        summary.read += 1
        event = _new_event(item, raw, name)
        if isinstance(item, NormalizedEvent):
            problem = check(item, received_at)
            if problem:
                problem = problem.removesuffix(f" ({item.position})")
                event.reason = problem  # shown where the row waits; the sync records its own verdict
                _report(summary, f"{event.origin}: {problem}")
                summary.invalid += 1
        elif event.status == EventStatus.REJECTED:
            _report(summary, f"{event.origin}: {event.reason}")
        chunk.append(event)
        if len(chunk) >= CHUNK:
            _store(events, chunk, summary, account)
            chunk = []
            if progress:
                progress(summary)
    _store(events, chunk, summary, account)
    text.detach()
    return summary


def _file_items(
    text: IO[str], file_format: str, kind: str | None, received_at: datetime, email_column: str | None
) -> Iterator[tuple[Item, bytes | None]]:
    if file_format == "csv":
        return (
            (item, None)
            for item in iter_csv_records(text, kind=kind, received_at=received_at, email_column=email_column)
        )
    if file_format == "jsonl":
        return _jsonl_items(text, kind, received_at)
    return _json_items(text, kind, received_at)


def _store(events: EventStore, chunk: list[NewEvent], summary: ImportSummary, account: str | None) -> None:
    if not chunk:
        return
    new = events.add_many(chunk)
    if account is not None and new < len(chunk):
        keys = [(event.source, event.event_id) for event in chunk if event.status != EventStatus.REJECTED]
        summary.requeued += events.requeue_for_account(keys, account)
    rejected = [event for event in chunk if event.status == EventStatus.REJECTED]
    summary.rejected += len(rejected)
    summary.stored += new - min(new, len(rejected))
    summary.duplicates += len(chunk) - new


def _report(summary: ImportSummary, problem: str) -> None:
    if len(summary.problems) < 10:
        summary.problems.append(problem)


def _invalid_check(config: SyncConfig | None) -> Callable[[NormalizedEvent, datetime], str | None]:
    """Why the sync would mark an event invalid (None when it would not): what the configuration's evaluation
    says, and whatever it says, a missing or bad email on a record (no record can be synced without one)."""
    evaluator = Evaluator(config) if config is not None else None

    def check(event: NormalizedEvent, now: datetime) -> str | None:
        if evaluator is not None:
            evaluation = evaluator.evaluate(event, now)
            if evaluation.status == "invalid":
                return evaluation.reason
        if event.source == RECORDS and event.email is None:
            return event.email_problem or "the row has no email address"
        return None

    return check


def _new_event(item: Item, raw: bytes | None, name: str) -> NewEvent:
    if isinstance(item, RejectedInput):
        origin = f"{name} {item.position or ''}".strip()
        digest = hashlib.sha256(f"{origin}\n{item.excerpt}".encode()).hexdigest()[:32]
        return NewEvent(
            item.source,
            f"rejected:{digest}",
            item.excerpt.encode("utf-8") or None,
            origin=origin,
            status=EventStatus.REJECTED,
            reason=item.reason,
        )
    body: bytes | None = raw
    if item.source == RECORDS:
        record = {path[len("data.") :]: value for path, value in item.data.items()}
        body = json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    origin = f"{name} {item.position or ''}".strip()  # "partners.csv row 12": where to fix it
    return NewEvent(
        item.source,
        item.id,
        body,
        item.type,
        item.email,
        item.occurred_at,
        item.kind,
        origin=origin,
        status=EventStatus.STAGED,
    )


def _webhook_or_record(raw: bytes, kind: str | None, received_at: datetime, position: str) -> tuple[Item, bytes | None]:
    """A line shaped like a Dodo or Partnero envelope is a webhook event, kept as its raw bytes under their hash
    (as the webhook route would store it); anything else is a record."""
    value = decode_object(raw, RECORDS)
    if isinstance(value, RejectedInput):
        value.position = position
        return value, None
    source = detect_source(value)
    if source is None:
        return normalize_input(value, RECORDS, kind=kind, received_at=received_at, position=position), None
    event = normalize_input(value, source, event_id=body_id(raw), received_at=received_at, position=position)
    if isinstance(event, NormalizedEvent):
        event.position = position
    return event, raw


def _jsonl_items(text: IO[str], kind: str | None, received_at: datetime) -> Iterator[tuple[Item, bytes | None]]:
    for number, line in enumerate(text, start=1):
        if line.strip():
            yield _webhook_or_record(as_bytes(line.strip()), kind, received_at, f"line {number}")


def _json_items(text: IO[str], kind: str | None, received_at: datetime) -> Iterator[tuple[Item, bytes | None]]:
    """A JSON file: one object, or an array of objects read one element at a time."""
    for number, element in enumerate(iter_json_array(text), start=1):
        if isinstance(element, RejectedInput):
            element.position = f"item {number}"
            yield element, None
            return
        yield _webhook_or_record(as_bytes(element), kind, received_at, f"item {number}")


def iter_json_array(text: IO[str], read_size: int = 1 << 16) -> Iterator[str | RejectedInput]:
    """The JSON text of each element of a top-level array (or of a single top-level object), streamed: the
    buffer holds at most one element and one read."""
    # Numbers are kept as text here (this only finds where each element ends): the element is read again by
    # ``decode_object``, which says why a number cannot be sent instead of failing on it.
    decoder = json.JSONDecoder(parse_int=str, parse_float=str, parse_constant=str)
    buffer, position, done = "", 0, False

    def fill() -> None:
        nonlocal buffer, position, done
        more = text.read(read_size)
        done = not more
        buffer, position = buffer[position:] + more, 0

    def skip(characters: str) -> bool:
        """Skip characters; False when the input ended first."""
        nonlocal position
        while True:
            while position < len(buffer) and buffer[position] in characters:
                position += 1
            if position < len(buffer):
                return True
            if done:
                return False
            fill()

    fill()
    if not skip(" \t\r\n"):
        return
    if buffer[position] == "{":
        single = True
    elif buffer[position] == "[":
        single, position = False, position + 1
    else:
        yield RejectedInput(RECORDS, "the file should hold a JSON object or an array of objects")
        return
    while True:
        if not skip(" \t\r\n,"):
            if not single:
                yield RejectedInput(RECORDS, "the file ends before its closing ]")
            return
        if not single and buffer[position] == "]":
            return
        try:
            _, end = decoder.raw_decode(buffer, position)
        except RecursionError:
            yield RejectedInput(RECORDS, "the file nests objects or lists too deep to be read")
            return
        except json.JSONDecodeError as exc:
            if done:
                yield RejectedInput(RECORDS, f"the file is not valid JSON ({exc.msg})")
                return
            if len(buffer) - position > 16 * 1024 * 1024:
                yield RejectedInput(RECORDS, "an element of the file is larger than 16 MB")
                return
            fill()  # the element goes on in the next read
            continue
        yield buffer[position:end]
        position = end
        if single:
            return


#: How many rows a preview shows, and how many rejected rows it keeps (it counts them all).
PREVIEW_ROWS = 5
PREVIEW_REJECTED = 1000


@dataclass(slots=True)
class RejectedRow:
    row: int  # as a person counts a file's rows: the header is row 1 (JSON Lines: the line, JSON: the item)
    where: str  # "row 3", "line 3", "item 3"
    reason: str
    content: str = ""


@dataclass(slots=True)
class ColumnUse:
    column: str
    sent_as: list[str]  # what the column becomes in MailerLite, in words; empty when nothing reads it
    examples: list[str] = field(default_factory=list)

    def in_words(self) -> str:
        return "; ".join(self.sent_as) if self.sent_as else "not sent: no field mapping reads this column"


@dataclass(slots=True)
class FilePreview:
    """What importing a file would do, read without storing anything."""

    name: str
    file_format: str
    kind: str | None
    columns: list[str] = field(default_factory=list)
    rows: list[dict[str, str]] = field(default_factory=list)  # the first few, as read
    email_column: str | None = None
    email_candidates: list[str] = field(default_factory=list)  # columns whose values look like email addresses
    mapping: list[ColumnUse] = field(default_factory=list)
    read: int = 0
    rejected_count: int = 0
    rejected: list[RejectedRow] = field(default_factory=list)  # the first PREVIEW_REJECTED
    problem: str | None = None  # about the whole file (nothing could be imported)

    def describe(self) -> str:
        if self.problem:
            hint = f" ({', '.join(self.email_candidates)} looks like one)" if self.email_candidates else ""
            return f"{self.name}: {self.problem}{hint}."
        text = f"{self.name}: {self.read:,} row{'' if self.read == 1 else 's'} read, {self.rejected_count:,} rejected"
        return text + "".join(f"\n  - {row.where}: {row.reason}" for row in self.rejected[:10])

    def rejected_csv(self) -> str:
        """The rejected rows as a CSV (row, reason, content), to fix them in a spreadsheet."""
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(["row", "reason", "content"])
        writer.writerows([row.row, row.reason, row.content] for row in self.rejected)
        return out.getvalue()

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "format": self.file_format,
            "kind": self.kind,
            "columns": self.columns,
            "rows": self.rows,
            "email_column": self.email_column,
            "email_candidates": self.email_candidates,
            "mapping": [
                {"column": use.column, "sent_as": use.sent_as, "in_words": use.in_words()} for use in self.mapping
            ],
            "read": self.read,
            "rejected_count": self.rejected_count,
            "rejected": [
                {"row": r.row, "where": r.where, "reason": r.reason, "content": r.content} for r in self.rejected
            ],
            "problem": self.problem,
        }


def preview_file(
    stream: IO[bytes] | Path | str,
    *,
    name: str | None = None,
    kind: str | None = None,
    file_format: str | None = None,
    config: SyncConfig | None = None,
    email_column: str | None = None,
) -> FilePreview:
    """Read a file as ``import_file`` would, storing nothing: its columns and first rows, which column is the
    email (detected, or ``email_column``), what each column becomes in MailerLite under ``config``, and every
    row that would be rejected, with its row number and why. The file is streamed twice (a sample, then all of
    it), so its size does not matter."""
    if isinstance(stream, (str, Path)):
        path = Path(stream)
        with path.open("rb") as handle:
            return preview_file(
                handle,
                name=name or path.name,
                kind=kind,
                file_format=file_format,
                config=config,
                email_column=email_column,
            )
    name = name or "upload"
    file_format = _file_format(name, file_format)
    preview = FilePreview(name, file_format, kind)
    start = stream.tell() if stream.seekable() else None
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="replace", newline="")
    received_at = datetime.now(UTC)
    _sample(preview, text, received_at)
    chosen = column_name(email_column) if email_column else None
    if chosen is None:
        chosen = next((column for column in EMAIL_COLUMNS if column in preview.columns), None)
    preview.email_column = chosen
    preview.email_candidates = _email_like_columns(preview) if chosen is None else []
    preview.kind = kind or (guess_kind(preview.columns) if file_format == "csv" else None)
    preview.mapping = _column_uses(config, preview)
    if start is None:
        text.detach()
        return preview
    text.detach()
    stream.seek(start)
    text = io.TextIOWrapper(stream, encoding="utf-8-sig", errors="replace", newline="")
    check = _invalid_check(config)
    for item, _ in _file_items(text, file_format, kind, received_at, email_column if file_format == "csv" else None):
        if file_format == "csv" and isinstance(item, RejectedInput) and item.position == "row 1":
            preview.problem = NO_EMAIL_COLUMN if NO_EMAIL_COLUMN in item.reason else item.reason
            preview.read = preview.rejected_count = 0
            preview.rejected = []
            break
        preview.read += 1
        reason = item.reason if isinstance(item, RejectedInput) else check(item, received_at)
        if reason:
            where = item.position or f"row {preview.read + 1}"
            preview.rejected_count += 1
            if len(preview.rejected) < PREVIEW_REJECTED:
                content = item.excerpt if isinstance(item, RejectedInput) else _content(item)
                preview.rejected.append(RejectedRow(_number(where), where, _row_reason(reason, where), content[:200]))
    text.detach()
    return preview


def _sample(preview: FilePreview, text: IO[str], received_at: datetime) -> None:
    """The columns and the first rows of the file."""
    if preview.file_format == "csv":
        reader = csv.reader(text)
        try:
            preview.columns = [column_name(name) for name in next(reader)]
        except (StopIteration, csv.Error):
            return
        for values in itertools.islice(reader, PREVIEW_ROWS):
            preview.rows.append(dict(zip(preview.columns, values)))
        return
    lines = _jsonl_items(text, preview.kind, received_at) if preview.file_format == "jsonl" else None
    items = lines if lines is not None else _json_items(text, preview.kind, received_at)
    columns: dict[str, None] = {}
    for item, _ in itertools.islice(items, PREVIEW_ROWS):
        if isinstance(item, NormalizedEvent):
            row = {path.removeprefix("data."): _text(value) for path, value in item.data.items()}
            columns.update(dict.fromkeys(row))
            preview.rows.append(row)
    preview.columns = list(columns)


def _text(value: object) -> str:
    return "" if value is None else value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _content(event: NormalizedEvent) -> str:
    return ", ".join(f"{path.removeprefix('data.')}={_text(value)}" for path, value in event.data.items())


def _row_reason(reason: str, where: str) -> str:
    """The reason without the row (said beside it) and with columns named as the file names them."""
    reason = re.sub(r" \(at data\.([^)]*)\)", r" (column \1)", reason.removesuffix(f" ({where})"))
    return re.sub(r" \(from data\.([^ |)]*)[^)]*\)", r" (column \1)", reason)


def _number(where: str) -> int:
    digits = where.rsplit(" ", 1)[-1]
    return int(digits) if digits.isdigit() else 0


def _email_like_columns(preview: FilePreview) -> list[str]:
    """Columns most of whose sampled values hold an @: the likely email column when none is named so."""
    found = []
    for column in preview.columns:
        values = [row.get(column, "") for row in preview.rows if row.get(column, "")]
        if values and sum("@" in value for value in values) * 2 > len(values):
            found.append(column)
    return found


def _column_uses(config: SyncConfig | None, preview: FilePreview) -> list[ColumnUse]:
    """What each column becomes in MailerLite: the email, the fields that read it, the group rules it decides."""
    event_type = f"{preview.kind or PARTNER}.imported"
    triggers = [
        trigger
        for trigger in (config.triggers if config else [])
        if trigger.enabled and EventTypeMatcher(trigger.event_types).matches(event_type)
    ]
    rules = [
        rule
        for rule in (config.group_rules if config else [])
        if rule.enabled and EventTypeMatcher(rule.event_types).matches(event_type)
    ]
    uses = []
    for column in preview.columns:
        path = f"data.{column}"
        sent_as: list[str] = ["the subscriber's email address"] if column == preview.email_column else []
        for trigger in triggers:
            for mapping in trigger.fields:
                words = f"MailerLite field {mapping.target}"
                if path in mapping.paths() and words not in sent_as:
                    sent_as.append(words)
        for rule in rules:
            words = f"decides the group {rule.group}"
            if any(condition.field == path for condition in rule.conditions) and words not in sent_as:
                sent_as.append(words)
        examples = [row[column] for row in preview.rows if row.get(column)][:3]
        uses.append(ColumnUse(column, sent_as, examples))
    return uses
