"""Preview: one event through the configuration, showing exactly what MailerLite would receive for a new and for
an existing contact, with every problem in plain words and the way to fix it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import streamlit as st

from pages import draft, ui, widgets
from sync_core.domain.config import ACTION_LABELS
from sync_core.domain.events import SOURCE_LABELS, NormalizedEvent, RejectedInput
from sync_core.domain.labels import field_label, mailerlite_field_label, template_label
from sync_core.domain.planning import ContactPlan, PlanOutcome
from sync_core.domain.preview import preview_event
from sync_core.engine import first_run
from sync_core.engine.account_checks import (
    account_fields,
    account_groups,
    group_name_notes,
    mapped_values,
    preview_advice,
)
from sync_core.engine.samples import PASTE_SOURCES, all_samples, parse_pasted, sample_event

ADVICE_STYLE = {
    "error": (st.error, ":material/error:"),
    "warning": (st.warning, ":material/warning:"),
    "info": (st.info, ":material/info:"),
    "success": (st.success, ":material/check_circle:"),
}
OUTCOME_WORDS = {
    PlanOutcome.CREATE: "created or updated (MailerLite decides by the email)",
    PlanOutcome.UPDATE: "updated",
    PlanOutcome.UNSUBSCRIBE: "unsubscribed (if MailerLite has them; nobody is created)",
    PlanOutcome.DELETE: "deleted from MailerLite (if it has them; nobody is created)",
    PlanOutcome.UNCHANGED: "left as it is",
    PlanOutcome.SUPPRESSED: "not touched (unsubscribed)",
    PlanOutcome.FORGET: "would be forgotten (GDPR): MailerLite is asked to forget them and the studio erases them",
}


def _cell(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    return json.dumps(value, default=str)


def choose_event() -> NormalizedEvent | RejectedInput | None:
    mode = st.segmented_control(
        "Event",
        ["A sample event", "Paste JSON"],
        key="pv_mode",
        default="A sample event",
        persist_state="session",
        required=True,
    )
    if mode == "Paste JSON":
        left, right = st.columns([3, 1])
        text = left.text_area(
            "Event JSON",
            key="pv_text",
            height=260,
            persist_state="session",
            placeholder='{"type": "payment.succeeded", "data": {...}}',
            help="The body of one webhook (Dodo Payments or Partnero), or one record as a JSON "
            "object. Then press Preview (or Ctrl+Enter).",
        )
        source = right.selectbox(
            "Source", list(PASTE_SOURCES), key="pv_source", format_func=PASTE_SOURCES.get, persist_state="session"
        )
        # The text is taken when the area loses the focus, so pressing the button previews what was pasted.
        right.button("Preview", type="primary", key="pv_go", icon=":material/visibility:", width="stretch")
        if not (text or "").strip():
            st.info("Paste the JSON of one event to see what it would send.", icon=":material/content_paste:")
            return None
        return parse_pasted(text, source)
    samples = all_samples()
    labels = [sample.label for sample in samples]
    default = "Dodo Payments · payment.succeeded"
    label = st.selectbox(
        "Sample event",
        labels,
        key="pv_sample",
        persist_state="session",
        index=labels.index(default) if default in labels else 0,
        help="Every official Dodo Payments example, Partnero webhooks and rows of records files",
    )
    sample = samples[labels.index(label)] if label in labels else samples[0]
    if sample.description:
        st.caption(sample.description)
    with st.expander("Advanced: the sample as received", key="pv_raw"):
        if isinstance(sample.payload, bytes):
            st.code(sample.payload.decode("utf-8"), language="json")
        else:
            st.json(sample.payload)
    return sample_event(sample)


def event_section(event: NormalizedEvent) -> None:
    st.subheader("The event", divider="gray")
    cols = st.columns([2, 3, 3, 3])
    cols[0].markdown(f"**Source**  \n{SOURCE_LABELS.get(event.source, event.source)}")
    known = "" if event.known_type else "  \n:orange-badge[unknown type]"
    cols[1].markdown(f"**Type**  \n`{event.type}`{known}")
    cols[2].markdown(f"**When**  \n{event.occurred_at:%Y-%m-%d %H:%M:%S} UTC")
    if event.email:
        cols[3].markdown(f"**Contact**  \n{event.email}")
    else:
        cols[3].markdown("**Contact**  \n:red[no usable email]")
    if event.kind:
        st.caption(f"A {event.kind} event.")
    if not event.email:
        st.error(f"No contact email: {event.email_problem}", icon=":material/alternate_email:")
    data = event.data
    with st.expander(f"Advanced: all fields of the event ({len(data)}), with their paths", key="pv_fields"):
        st.caption(f"Event ID: `{event.id}`")
        st.caption("Use these paths in field mappings (e.g. data.customer.name) and in group rule conditions.")
        st.dataframe(
            [
                {"Field": field_label(event.source, path), "Value": _cell(value), "Path": path}
                for path, value in data.items()
            ],
            hide_index=True,
            width="stretch",
            height=min(420, 38 + 35 * len(data)),
        )


def _from_words(source: str | None, origin: str) -> str:
    """Where a value comes from, in words: an event field by its label, a template by what it is made of."""
    if "{" in origin:
        return template_label(source, origin)
    if origin.startswith(("fixed value", "event time", "time of sync")):
        return origin
    return field_label(source, origin)


def fields_section(config, preview, now, fields, names) -> None:
    st.subheader("Fields sent", divider="gray")
    values = mapped_values(config, preview, now, fields)
    if not values:
        st.caption("No field is sent for this event.")
        return
    word = {"ok": "", "warning": "Warning: ", "problem": "Problem: ", "not sent": "Not sent: "}
    st.dataframe(
        [
            {
                "MailerLite field": mailerlite_field_label(v.target, names),
                "Value": "" if v.value is None else _cell(v.value),
                "Type": v.field_type,
                "Check": f"{word[v.status]}{v.message}",
                "From": _from_words(preview.event.source, v.source),
                "Trigger": v.trigger,
            }
            for v in values
        ],
        hide_index=True,
        width="stretch",
        height=min(740, 38 + 35 * len(values)),
        column_config={
            "Check": st.column_config.TextColumn(width="medium"),
            "Value": st.column_config.TextColumn(width="medium"),
        },
    )
    problems = [v for v in values if v.status == "problem"]
    if problems:
        st.caption(
            f"{len(problems)} field{'s' if len(problems) != 1 else ''} cannot be sent as mapped; see the "
            "verdict above for the fix."
        )


def _groups_line(plan: ContactPlan | None) -> str:
    if plan is None:
        return "nothing"
    parts = [f":green[+ {name}]" for name in plan.groups_added] + [f":red[− {name}]" for name in plan.groups_removed]
    return ", ".join(parts) if parts else "no group changes"


def groups_section(config, preview, groups) -> None:
    st.subheader("Groups", divider="gray")
    decisions = preview.evaluation.decisions
    left, right = st.columns(2)
    left.markdown(f"**New contact:** {_groups_line(preview.new_contact)}")
    right.markdown(f"**Existing contact:** {_groups_line(preview.existing_contact)}")
    notes = group_name_notes(config, preview, groups)
    for note in notes:
        st.info(note, icon=":material/label:")
    if not decisions and not notes and not (preview.new_contact and preview.new_contact.groups_added):
        st.caption("No group rule decides on this event.")


def _request_text(operation) -> str:
    request = operation.as_request()
    text = f"{request['method']} {request['path']}"
    if request["body"] is not None:
        text += "\n" + json.dumps(request["body"], indent=2, ensure_ascii=False, default=str)
    return text


def requests_section(preview) -> None:
    with st.expander("Advanced: the requests to MailerLite", icon=":material/code:", key="pv_requests"):
        st.caption(
            "Exactly what a sync sends. Groups appear by name until their MailerLite ids are known; "
            "{subscriber_id} is filled in from MailerLite's answer."
        )
        _requests(preview)


def _requests(preview) -> None:
    for column, title, plan in zip(
        st.columns(2),
        ("For a new contact", "For a contact already synced"),
        (preview.new_contact, preview.existing_contact),
    ):
        with column:
            st.markdown(f"**{title}**")
            if plan is None:
                st.caption("Nothing is sent.")
                continue
            if not plan.operations:
                st.caption(f"Nothing is sent: {plan.reason or 'nothing changed'}.")
                continue
            st.caption(
                f"{len(plan.operations)} request{'s' if len(plan.operations) != 1 else ''}; the subscriber "
                f"is {OUTCOME_WORDS.get(plan.outcome, plan.outcome)}."
            )
            for operation in plan.operations:
                st.code(_request_text(operation), language="json")


#: What a plan does to the contact, in a few words for the summary under the verdict.
HAPPENS = {
    PlanOutcome.CREATE: "created",
    PlanOutcome.UPDATE: "updated",
    PlanOutcome.UNSUBSCRIBE: "unsubscribed (nobody is created)",
    PlanOutcome.DELETE: "deleted from MailerLite (nobody is created)",
    PlanOutcome.UNCHANGED: "left as they are",
    PlanOutcome.SUPPRESSED: "not touched, because they unsubscribed",
    PlanOutcome.FORGET: "forgotten (GDPR): MailerLite forgets them and the studio erases them",
}


def _names(items: list[str]) -> str:
    return ", ".join(items[:8]) + (f" and {len(items) - 8} more" if len(items) > 8 else "")


def happens_line(plan: ContactPlan, sent: list[str]) -> str:
    """One contact's plan in a sentence: what is done, which fields are filled, which groups it joins or leaves."""
    words = f"**{HAPPENS.get(plan.outcome, str(plan.outcome))}**"
    if plan.outcome in (PlanOutcome.CREATE, PlanOutcome.UPDATE) and sent:
        words += f", with {len(sent)} field{'s' if len(sent) != 1 else ''} ({_names(sent)})"
    if plan.groups_added:
        words += f"; joins {_names(plan.groups_added)}"
    if plan.groups_removed:
        words += f"; leaves {_names(plan.groups_removed)}"
    if plan.outcome == PlanOutcome.UNCHANGED and plan.reason:
        words += f" ({plan.reason})"
    return words


def what_happens(config, preview, now, fields, names) -> None:
    """The verdict in words: what a sync of this event does to the contact, new or already in MailerLite."""
    values = mapped_values(config, preview, now, fields)
    sent = [mailerlite_field_label(v.target, names) for v in values if v.status in ("ok", "warning")]
    lines = []
    if preview.new_contact is not None:
        lines.append(f"- If MailerLite does not have them yet: {happens_line(preview.new_contact, sent)}.")
    if preview.existing_contact is not None:
        lines.append(f"- If they are already synced: {happens_line(preview.existing_contact, sent)}.")
    if lines:
        with st.container(border=True):
            st.markdown(f"**What happens to {preview.event.email}**\n" + "\n".join(lines))


def main() -> None:
    st.title("Preview")
    st.caption(
        "Pick a sample event or paste one, and see what the studio would send to MailerLite. Nothing is "
        "sent from this page."
    )
    ws = ui.workspace()
    if ws is None:
        return
    widgets.show_flash()
    config, from_draft = draft.working_config(ws)
    _, draft_problems = draft.validate(ws)
    current = ws.active_config()
    if draft.is_dirty() and from_draft:
        st.caption(":orange-badge[:material/edit: Unsaved changes] Previewing with your unsaved changes.")
    elif draft.is_dirty():
        widgets.show_problems(
            f"Your unsaved changes have problems, so the preview uses the saved version "
            f"{current.version_id or '(none)'}:",
            draft_problems,
            level="warning",
        )
    if current.problem:
        st.error("The saved configuration cannot be read; see the Field mapping page.", icon=":material/error:")
    if not config.triggers:
        st.info(
            "No triggers yet, so no event is synced. Load a preset or add a trigger on the Field mapping page.",
            icon=":material/info:",
        )

    event = choose_event()
    if event is None:
        return
    if isinstance(event, RejectedInput):
        st.error(f"This event cannot be read: {event.reason}.", icon=":material/data_alert:")
        st.caption(
            "Paste the complete body of one event, exactly as the sender sent it. A Dodo Payments event "
            'has "type" and "data"; a Partnero event has "event" and "data"; a record is one JSON '
            "object with an email."
        )
        return
    report = ui.account_report(ws)
    fields, groups = account_fields(report), account_groups(report)
    names = {item.key: item.name for item in report.fields} if report.ok else {}
    now = datetime.now(UTC)
    try:
        preview = preview_event(config, event, now=now)
    except Exception as exc:  # noqa: BLE001
        widgets.plain_error("preview this event", exc)
        return
    first_run.note_preview(ws)  # the first-run guide's step "Preview an event" is done
    event_section(event)

    st.subheader("Verdict", divider="gray")
    evaluation = preview.evaluation
    if evaluation.status == "sync":
        action = ACTION_LABELS.get(evaluation.action or "", evaluation.action)
        st.success(
            f"Synced ({action}) by {', '.join(repr(t) for t in evaluation.triggers)}.", icon=":material/check_circle:"
        )
    for advice in preview_advice(config, preview, fields=fields, groups=groups):
        show, icon = ADVICE_STYLE[advice.level]
        show(advice.message + (f"\n\n**How to fix:** {advice.fix}" if advice.fix else ""), icon=icon)
    if evaluation.status == "sync":
        what_happens(config, preview, now, fields, names)
    if fields is None:
        st.caption(
            "The account could not be read, so fields and groups are not checked against it (see the Connection page)."
        )

    if evaluation.triggers:
        fields_section(config, preview, now, fields, names)
    if evaluation.status == "sync":
        groups_section(config, preview, groups)
        requests_section(preview)


ui.page_guard("pages/preview.py")
main()
