"""Every page, in its default view with sample data, speaks a marketer's words: no exception text, no raw
event ids, no developers' terms (issue 14). Raw requests and ids may appear only under an *Advanced* expander."""

from __future__ import annotations

import io
import re

import pytest

from storage.events import EventStore, NewEvent
from sync_core.domain.presets import load_preset
from sync_core.engine.file_import import import_file
from sync_core.engine.run import SyncEngine
from tests.dashboard.helpers import assert_clean, open_page
from tests.webhooks.helpers import dodo_body

PAGES = (
    "pages/home.py",
    "pages/connection.py",
    "pages/field_mapping.py",
    "pages/group_rules.py",
    "pages/people.py",
    "pages/preview.py",
    "pages/sandbox_tools.py",
    "pages/run_sync.py",
    "pages/monitor.py",
    "pages/drift.py",
)
FORBIDDEN = re.compile(
    r"Errno|Traceback|NoneType|sha256:|\bupsert|envelope|\b[A-Z][A-Za-z]*(?:Error|Exception)\b|\bNone\b",
    re.IGNORECASE,
)
CASE_SENSITIVE = re.compile(r"\b[A-Z][A-Za-z]*(?:Error|Exception)\b|\bNone\b")

HEADER = "email,name,key,status,total_sales\n"
PARTNERS = "".join(f"p{n}@example.com,Pat {n},k{n},active,{n}\n" for n in range(6))
BAD = "not-an-email,Bad,b1,active,1\ncarl@example.com,Carl,c1,active,lots\n"


def _arranged(workspace) -> None:
    """A history a manager would open: a sync, failures, rows that need attention, webhooks waiting."""
    from tests.engine.conftest import failing_batches_client

    workspace.save_config(load_preset("partnero"), author="test")
    import_file(
        EventStore(workspace.database),
        io.BytesIO((HEADER + PARTNERS + BAD).encode()),
        name="partners.csv",
        config=workspace.active_config().config,
    )
    SyncEngine(workspace).run()
    import_file(
        EventStore(workspace.database),
        io.BytesIO((HEADER + "q1@example.com,Quinn,q1,active,3\n").encode()),
        name="more.csv",
        config=workspace.active_config().config,
    )
    client, _ = failing_batches_client(workspace.sandbox())
    SyncEngine(workspace, client=client).run()  # fails: a contact with a reason and a request
    body = dodo_body(1, email="dana@example.com")
    EventStore(workspace.database).add_many(
        [NewEvent("dodo_payments", "msg_words_1", body, "payment.succeeded", "dana@example.com")]
    )


def _visible_text(app) -> str:
    """What the page shows outside *Advanced* expanders: texts, labels, table headers and cells."""
    parts: list[str] = []

    def walk(node, hidden: bool) -> None:
        label = getattr(node, "label", None)
        if getattr(node, "type", "") == "expander" and label and "advanced" in str(label).lower():
            hidden = True
        if not hidden:
            for attribute in ("value", "label", "body", "help", "placeholder"):
                value = getattr(node, attribute, None)
                if isinstance(value, str):
                    parts.append(value)
            frame = getattr(node, "value", None)
            if hasattr(frame, "columns"):
                parts.extend(str(c) for c in frame.columns)
                parts.extend(str(v) for v in frame.astype(str).to_numpy().ravel())
            options = getattr(node, "options", None)
            if isinstance(options, list):
                parts.extend(str(o) for o in options)
        for child in getattr(node, "children", {}).values() if hasattr(node, "children") else ():
            walk(child, hidden)

    walk(app._tree, False)
    return "\n".join(parts)


@pytest.fixture
def arranged(studio_workspace):
    _arranged(studio_workspace)
    return studio_workspace


@pytest.mark.parametrize("path", PAGES)
def test_every_page_speaks_plain_words(app, arranged, path):
    open_page(app, path)
    assert_clean(app)
    text = _visible_text(app)
    found = sorted({m.group(0) for m in FORBIDDEN.finditer(text) if _counts(m.group(0))})
    assert not found, f"{path} shows {found}"


def _counts(word: str) -> bool:
    """Exception class names and a literal ``None`` count only as written (capitalised)."""
    if re.fullmatch(r"[A-Za-z]*(?:error|exception)|none", word, re.IGNORECASE):
        return bool(CASE_SENSITIVE.fullmatch(word))
    return True


def test_an_unreachable_mailerlite_is_explained_in_words(app, studio_workspace, monkeypatch):
    """Sandbox off and MailerLite's address unknown: the pages say what happened and what to do."""
    monkeypatch.setenv("MAILERLITE_API_KEY", "some-real-looking-key-0001")
    monkeypatch.setenv("MAILERLITE_BASE_URL", "http://mailerlite.invalid/api")
    config = load_preset("partnero")
    config.connection.sandbox = False
    studio_workspace.save_config(config, author="test")
    for path in ("pages/home.py", "pages/connection.py", "pages/monitor.py", "pages/field_mapping.py"):
        open_page(app, path)
        text = _visible_text(app)
        found = sorted({m.group(0) for m in FORBIDDEN.finditer(text) if _counts(m.group(0))})
        assert not found, f"{path} shows {found}"
        assert "attempt(s)" not in text and "GET /" not in text
