"""Shared fixtures: the reference material (official Dodo examples) and small event builders."""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
# shared/ sits beside the checkout (../shared); SHARED_DIR overrides it.
SHARED = Path(os.environ.get("SHARED_DIR", REPO.parent / "shared"))
DODO_EXAMPLES_FILE = SHARED / "reference" / "dodo-webhook-examples-2025-09.json"


@pytest.fixture(scope="session")
def dodo_examples() -> dict[str, dict]:
    """Event type → the official example event (21 of them, Sep 2025 OpenAPI)."""
    if not DODO_EXAMPLES_FILE.exists():
        pytest.fail(f"the reference examples are missing: {DODO_EXAMPLES_FILE} (set SHARED_DIR)")
    document = json.loads(DODO_EXAMPLES_FILE.read_text(encoding="utf-8"))
    return {event_type: entry["example"] for event_type, entry in document.items()}


@pytest.fixture
def now() -> datetime:
    return datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)
