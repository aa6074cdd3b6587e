"""Commands over the pure core: ``presets``, ``preview`` and ``config export``."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path

from sync_core.cli import syncing
from sync_core.cli.errors import CommandError
from sync_core.cli.output import print_json
from sync_core.domain.config import ConfigError, SyncConfig, load_config
from sync_core.domain.events import PARTNER, RejectedInput
from sync_core.domain.presets import PRESETS, UnknownPreset, load_preset, preset_document
from sync_core.domain.preview import EventPreview, preview_event
from sync_core.domain.sources import normalize_input
from sync_core.domain.sources.records import RECORD_KINDS
from sync_core.engine.account_checks import group_name_notes, mapped_values


def register(subparsers: argparse._SubParsersAction) -> None:
    presets = subparsers.add_parser("presets", help="list the ready-made configurations")
    presets.add_argument("--json", action="store_true", help="machine-readable output")
    presets.set_defaults(handler=list_presets)

    preview = subparsers.add_parser("preview", help="print, as JSON, the MailerLite requests one event would cause")
    chosen = preview.add_mutually_exclusive_group(required=True)
    chosen.add_argument("--preset", help="use a preset configuration (see: presets)")
    chosen.add_argument("--config", type=Path, help="use a configuration document (JSON)")
    preview.add_argument("--event", required=True, help="a file with one event as JSON ('-' reads stdin)")
    preview.add_argument(
        "--source",
        choices=["dodo_payments", "partnero", "records"],
        help="where the event comes from (default: told by its shape)",
    )
    preview.add_argument(
        "--kind",
        choices=RECORD_KINDS,
        default=None,
        help="for --source records: whether the record is a partner or a customer",
    )
    preview.add_argument(
        "--existing",
        action="store_true",
        help="show the requests for a contact already in MailerLite instead of a new one",
    )
    preview.set_defaults(handler=run_preview)

    config = subparsers.add_parser("config", help="configuration documents")
    config_commands = config.add_subparsers(dest="config_command", metavar="ACTION")
    config_commands.required = True
    export = config_commands.add_parser("export", help="print a configuration document (default: the one in force)")
    export_from = export.add_mutually_exclusive_group()
    export_from.add_argument("--preset", help="the preset to print")
    export_from.add_argument("--config", type=Path, help="a document to check and print in full")
    export.set_defaults(handler=export_config)
    syncing.register_config(config_commands)


def list_presets(args: argparse.Namespace) -> int:
    if args.json:
        print_json([{"name": name, "description": description} for name, (_, description) in PRESETS.items()])
        return 0
    width = max(len(name) for name in PRESETS)
    for name, (_, description) in PRESETS.items():
        print(f"{name.ljust(width)}  {description}")
    return 0


def export_config(args: argparse.Namespace) -> int:
    if args.preset:
        try:
            print(preset_document(args.preset).rstrip())
        except UnknownPreset as exc:
            raise CommandError(str(exc)) from None
        return 0
    if args.config:
        print(_load_config(args.config).to_json())
        return 0
    from sync_core.engine.workspace import Workspace

    print(Workspace().config().to_json())
    return 0


def run_preview(args: argparse.Namespace) -> int:
    config = _preset(args.preset) if args.preset else _load_config(args.config)
    event = normalize_input(
        _read_event(args.event),
        args.source,
        kind=args.kind or PARTNER,
        received_at=datetime.now(UTC),
        position="the record",
    )
    if isinstance(event, RejectedInput):
        raise CommandError(f"the event cannot be read: {event.reason}")
    result = preview_event(config, event)
    plan = result.existing_contact if args.existing else result.new_contact
    if plan is None:
        evaluation = result.evaluation
        print(f"{evaluation.status}: {evaluation.reason}", file=sys.stderr)
        print("[]")
        return 1 if evaluation.status == "invalid" else 0
    for note in preview_notes(config, result):
        print(note, file=sys.stderr)
    print(json.dumps([operation.as_request() for operation in plan.operations], indent=2, ensure_ascii=False))
    return 0


def preview_notes(config: SyncConfig, result: EventPreview) -> list[str]:
    """What the requests alone do not say: the fields this event has no value for, and what each group rule
    named from the event makes of it (stderr, so that stdout stays the JSON of the requests)."""
    notes = [
        f"{value.target}: {value.message}."
        for value in mapped_values(config, result, datetime.now(UTC))
        if value.status == "not sent"
    ]
    return notes + group_name_notes(config, result)


def _preset(name: str) -> SyncConfig:
    try:
        return load_preset(name)
    except UnknownPreset as exc:
        raise CommandError(str(exc)) from None


def _load_config(path: Path) -> SyncConfig:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise CommandError(f"cannot read the configuration {path}: {exc.strerror}") from None
    try:
        return load_config(text)
    except ConfigError as exc:
        raise CommandError(f"{path}: {exc}") from None


def _read_event(name: str) -> bytes:
    if name == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(name).read_bytes()
    except OSError as exc:
        raise CommandError(f"cannot read the event file {name}: {exc.strerror}") from None
