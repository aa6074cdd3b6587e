"""Bulk records: CSV (a header row naming the columns) or JSON Lines of partners or of customers.

A record becomes an event of type ``partner.imported`` or ``customer.imported`` whose data sits under ``data.``
like a Partnero webhook's (``data.email``, ``data.name``...), so one mapping serves a backfill file and the live
webhooks alike. Files are read line by line, never whole, and every bad row is reported with its number.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from sync_core.domain.events import (
    CUSTOMER,
    MAX_BODY_BYTES,
    PARTNER,
    RECORDS,
    NormalizedEvent,
    RejectedInput,
    flatten,
    parse_timestamp,
)
from sync_core.domain.sources.body import UnsendableValue, as_bytes, check_sendable, decode_object, find_email

RECORD_KINDS = (PARTNER, CUSTOMER)
EMAIL_COLUMNS = ("email", "email_address", "e-mail", "customer.email", "partner.email")
KEY_COLUMNS = {PARTNER: ("key", "partner_key", "id"), CUSTOMER: ("key", "customer_key", "id")}
_EMAIL_PATHS = tuple(f"data.{column}" for column in EMAIL_COLUMNS)
TIME_COLUMNS = ("updated_at", "created_at", "timestamp")
# A column naming the referring partner marks a customers file when the kind is not given.
_CUSTOMER_MARKERS = {"referred_by", "partner", "partner.key", "customer_key", "referring_partner"}

Item = NormalizedEvent | RejectedInput


def iter_csv_records(
    lines: Iterable[str],
    *,
    kind: str | None = None,
    received_at: datetime | None = None,
    email_column: str | None = None,
) -> Iterator[Item]:
    """Events from CSV text lines (a file opened in text mode works); the first row names the columns.
    ``email_column``: the column holding the email addresses (default: the one named email or alike)."""
    received_at = received_at or datetime.now(UTC)
    reader = csv.reader(_bounded_lines(lines))
    try:
        header = next(reader)
    except StopIteration:
        yield RejectedInput(RECORDS, "the file is empty: the first row should name the columns", position="row 1")
        return
    except (csv.Error, _LineTooLong) as exc:
        yield RejectedInput(RECORDS, f"the header row cannot be read: {exc}", position="row 1")
        return
    columns = [_column_name(name) for name in header]
    email_column = _column_name(email_column) if email_column else None
    problem = _header_problem(columns, email_column)
    if problem:
        yield RejectedInput(RECORDS, problem, position="row 1")
        return
    kind = kind or guess_kind(columns)
    if kind not in RECORD_KINDS:
        yield RejectedInput(RECORDS, f"the record kind should be partner or customer, not {kind!r}")
        return
    row_number = 1
    while True:
        try:
            values = next(reader)
        except StopIteration:
            return
        except (csv.Error, _LineTooLong) as exc:
            row_number += 1
            yield RejectedInput(RECORDS, f"the row cannot be read: {exc}", position=f"row {row_number}")
            continue
        row_number += 1
        if not values or (len(values) == 1 and not values[0].strip()):
            continue  # blank line
        if len(values) != len(columns):
            few_or_many = "too few" if len(values) < len(columns) else "too many"
            yield RejectedInput(
                RECORDS,
                f"{few_or_many} values: the row has {len(values)} but the header names {len(columns)} columns "
                f"({', '.join(columns)})",
                position=f"row {row_number}",
                excerpt=",".join(values)[:200],
            )
            continue
        record = {column: value.strip() for column, value in zip(columns, values)}
        yield record_event(
            record, kind=kind, received_at=received_at, position=f"row {row_number}", email_column=email_column
        )


def iter_jsonl_records(
    lines: Iterable[str],
    *,
    kind: str | None = None,
    received_at: datetime | None = None,
) -> Iterator[Item]:
    """Events from JSON Lines: one JSON object per line, nested objects allowed (``{"partner": {"key": ..}}``)."""
    received_at = received_at or datetime.now(UTC)
    if kind is not None and kind not in RECORD_KINDS:
        yield RejectedInput(RECORDS, f"the record kind should be partner or customer, not {kind!r}")
        return
    for number, line in enumerate(lines, start=1):
        if line.strip():
            yield normalize_record(line, kind=kind, received_at=received_at, position=f"line {number}")


def normalize_record(
    body: bytes | str | dict[str, Any],
    *,
    kind: str | None = None,
    received_at: datetime | None = None,
    position: str | None = None,
    limit: int | None = MAX_BODY_BYTES,
) -> Item:
    """One record, as JSON text or already decoded (nested objects allowed) → a ``<kind>.imported`` event, the
    kind guessed from its columns when not given; or the reason it cannot be one."""
    if kind is not None and kind not in RECORD_KINDS:
        return RejectedInput(RECORDS, f"the record kind should be partner or customer, not {kind!r}", position=position)
    if not isinstance(body, dict):
        decoded = decode_object(as_bytes(body), RECORDS, limit=limit)
        if isinstance(decoded, RejectedInput):
            decoded.position = position
            return decoded
        body = decoded
    else:
        try:
            check_sendable(body)
        except UnsendableValue as exc:
            return RejectedInput(RECORDS, f"the record {exc}", position=position)
    flat = flatten(body)
    return record_event(
        flat, kind=kind or guess_kind(flat), received_at=received_at or datetime.now(UTC), position=position
    )


def record_event(
    record: dict[str, Any], *, kind: str, received_at: datetime, position: str | None, email_column: str | None = None
) -> Item:
    """One flat record (column → value) → a normalized event of type ``<kind>.imported``."""
    data = {f"data.{column}": value for column, value in record.items()}
    email, problem = find_email(data.get, (f"data.{email_column}",) if email_column else _EMAIL_PATHS)
    key = _first_present(record, KEY_COLUMNS[kind]) or email or ""
    occurred_at = next(
        (parsed for column in TIME_COLUMNS if (parsed := parse_timestamp(record.get(column)))), received_at
    )
    return NormalizedEvent(
        source=RECORDS,
        type=f"{kind}.imported",
        id=f"{kind}:{key}:{_content_hash(record)}",
        occurred_at=occurred_at,
        kind=kind,
        data=data,
        email=email,
        email_problem=problem and (f"{problem} ({position})" if position else problem),
        position=position,
    )


class _LineTooLong(ValueError):
    pass


def _bounded_lines(lines: Iterable[str]) -> Iterator[str]:
    for line in lines:
        if len(line) > MAX_BODY_BYTES:
            raise _LineTooLong(f"a line is longer than {MAX_BODY_BYTES // 1024 // 1024} MB")
        yield line


def column_name(name: str) -> str:
    """A header's column as the studio names it: trimmed, lower case, spaces as _."""
    return _column_name(name)


def _column_name(name: str) -> str:
    return name.strip().lstrip("\ufeff").strip().lower().replace(" ", "_")


#: What a file without a recognisable email column is told (the preview lets a person choose the column).
NO_EMAIL_COLUMN = "no column holds email addresses; choose which one does"


def _header_problem(columns: list[str], email_column: str | None = None) -> str | None:
    if not any(columns):
        return "the first row should name the columns, but it is empty"
    duplicates = sorted({c for c in columns if columns.count(c) > 1})
    if duplicates:
        return f"the header names a column more than once: {', '.join(duplicates)}"
    if "" in columns:
        return f"column {columns.index('') + 1} has no name in the header row"
    if email_column is not None:
        if email_column not in columns:
            return f"there is no column {email_column} in the file; choose one of {', '.join(columns)}"
    elif not any(column in EMAIL_COLUMNS for column in columns):
        return f"{NO_EMAIL_COLUMN} (or name it {', '.join(EMAIL_COLUMNS[:3])})"
    return None


def guess_kind(columns: Iterable[str]) -> str:
    return CUSTOMER if _CUSTOMER_MARKERS.intersection(columns) else PARTNER


def _first_present(record: dict[str, Any], columns: Iterable[str]) -> str | None:
    for column in columns:
        value = record.get(column)
        if value not in (None, ""):
            return str(value)
    return None


def _content_hash(record: dict[str, Any]) -> str:
    canonical = json.dumps(record, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]
