"""The dashboard's helpers in sync_core: sample events, and checks of a configuration against the account."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import sync_core
from sync_core.domain.config import ConnectionSettings, SyncConfig
from sync_core.domain.events import NormalizedEvent, RejectedInput
from sync_core.domain.presets import load_preset
from sync_core.domain.preview import preview_event
from sync_core.engine.account_checks import (
    check_connection,
    check_field,
    mapped_values,
    missing_fields,
    missing_groups,
    preview_advice,
)
from sync_core.engine.samples import (
    DODO_EXAMPLES_FILE,
    all_samples,
    dodo_samples,
    known_event_types,
    known_paths,
    parse_pasted,
    partnero_samples,
    record_samples,
    sample_event,
)

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def test_samples_cover_every_official_dodo_example_partnero_and_records(dodo_examples):
    labels = [sample.label for sample in dodo_samples()]
    assert labels == [f"Dodo Payments · {t}" for t in sorted(dodo_examples)] and len(labels) == 21
    partnero = [sample_event(sample) for sample in partnero_samples()]
    assert [e.type for e in partnero] == [
        "partner.created",
        "partner.created",
        "partner.updated",
        "partner.rejected",
        "customer.created",
        "partner.updated",
    ]
    assert partnero[0].data["webhook_key"] == "wh_abc123" and "timestamp" in partnero[1].data
    assert partnero[2].data["data.status"] != "active"
    records = [sample_event(sample) for sample in record_samples()]
    assert [(e.type, e.kind) for e in records] == [("partner.imported", "partner"), ("customer.imported", "customer")]
    for sample in all_samples():
        assert isinstance(sample_event(sample), NormalizedEvent), sample.label


def test_every_official_dodo_example_ships_with_the_package(monkeypatch, tmp_path):
    # A user's clone has nothing beside it: the examples come from inside the package, whatever is around it.
    monkeypatch.chdir(tmp_path)
    assert DODO_EXAMPLES_FILE.is_relative_to(Path(sync_core.__file__).resolve().parent)
    samples = dodo_samples()
    assert len(samples) == 21 and len(all_samples()) == 21 + 6 + 2
    assert {sample_event(sample).type for sample in samples} >= {"payment.succeeded", "subscription.cancelled"}
    assert "data.customer.email" in known_paths()


def test_known_paths_and_types():
    paths = known_paths()
    assert paths[:3] == ["event.type", "event.kind", "event.source"]
    assert "data.total_amount" in paths and "data.status" in paths
    assert "payment.succeeded" in known_event_types("dodo_payments")
    assert known_event_types("records") == ["partner.imported", "customer.imported"]
    assert "partner.created" in known_event_types()


def test_pasted_text_is_read_as_the_chosen_source():
    assert isinstance(parse_pasted("  "), RejectedInput)
    assert "not valid JSON" in parse_pasted("{nope").reason
    assert "not valid JSON" in parse_pasted("{nope", "records:partner").reason
    event = parse_pasted('{"email": "a@b.co", "name": "A"}', "records:customer")
    assert event.type == "customer.imported" and event.email == "a@b.co"
    dodo = parse_pasted('{"type": "payment.succeeded", "data": {"customer": {"email": "x@y.co"}}}', "auto")
    assert dodo.source == "dodo_payments" and dodo.email == "x@y.co"


def test_field_checks_against_the_account():
    fields = {"name": "text", "total_sales": "number"}
    assert check_field("name", "text", fields).status == "ok"
    assert check_field("subscribed_at", "text", fields).status == "ok"
    missing = check_field("tier", "text", fields)
    assert missing.status == "missing" and "Create missing fields" in missing.message
    mismatch = check_field("total_sales", "text", fields)
    assert mismatch.status == "mismatch" and "set the type to number" in mismatch.message
    assert check_field("", "text", fields).status == "problem"
    assert check_field("tier", "text", None).status == "unknown"
    assert missing_fields(load_preset("partnero"), fields) == {
        "partner_key": "text",
        "status": "text",
        "total_earned": "number",
        "tier": "text",
        "referred_by": "text",
        "customer_key": "text",
    }
    draft = {"triggers": [{"fields": [{"target": "x", "type": "date"}, {"target": ""}, "junk"]}, "junk"]}
    assert missing_fields(draft, fields) == {"x": "date"}
    assert missing_groups(["Partners", "vip", "VIP", " New "], ["partners", "Vip"]) == ["New"]


def test_advice_for_ignored_and_invalid_events(dodo_examples):
    import json

    config = load_preset("dodo-payments")
    processing = sample_event(next(s for s in dodo_samples() if s.label.endswith("payment.processing")))
    (advice,) = preview_advice(config, preview_event(config, processing, now=NOW))
    assert advice.level == "warning" and "Add a trigger for payment.processing" in advice.fix
    no_email = dict(dodo_examples["payment.succeeded"])
    no_email["data"] = {**no_email["data"], "customer": {"name": "Nobody"}}
    event = parse_pasted(json.dumps(no_email))
    advice = preview_advice(config, preview_event(config, event, now=NOW))
    assert advice[0].level == "error" and "cannot be synced" in advice[0].message and len(advice) == 1
    off = SyncConfig.model_validate({**config.model_dump(), "sources": {"dodo_payments": {"enabled": False}}})
    payment = parse_pasted(json.dumps(dodo_examples["payment.succeeded"]))
    (advice,) = preview_advice(off, preview_event(off, payment, now=NOW))
    assert "Connection page" in advice.fix
    values = mapped_values(config, preview_event(config, payment, now=NOW), NOW, None)
    statuses = {v.target: v.status for v in values}
    assert statuses["name"] == "ok"
    # the example has no business name, and an empty value never erases what MailerLite holds
    assert statuses["company"] == statuses["last_name"] == "not sent"


def test_check_connection_never_raises(studio_workspace):
    report = check_connection(studio_workspace, ConnectionSettings())
    assert report.ok and report.summary().startswith("Connected.")
    studio_workspace.set_api_key("bad key with spaces")
    report = check_connection(studio_workspace, ConnectionSettings(sandbox=False))
    assert not report.ok and "spaces or control characters" in report.problem
