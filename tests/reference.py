"""Where the tests find the vendors' facts that ship with the repository (their sources: ``fixtures/README.md``).

A missing file fails the test that needs it, naming the file: it is never a reason to skip.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sync_core.engine.samples import DODO_EXAMPLES_FILE

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "tests" / "fixtures"
MAILERLITE_RECORDINGS = FIXTURES / "mailerlite-recordings"
SIGNATURE_VECTORS_FILE = FIXTURES / "signature-vectors.json"
PARTNERO_FIXTURES = FIXTURES / "partnero"

__all__ = [
    "DODO_EXAMPLES_FILE",
    "MAILERLITE_RECORDINGS",
    "REPO",
    "SIGNATURE_VECTORS_FILE",
    "partnero_fixture",
    "read_json",
    "require",
]


def require(path: Path) -> Path:
    """``path``, or a failure that says which file is missing."""
    if not path.exists():
        pytest.fail(
            f"a test fixture is missing: {path} (it ships with the repository; restore it with "
            "`git checkout -- tests/fixtures sync_core/domain/sources/examples`)",
            pytrace=False,
        )
    return path


def read_json(path: Path) -> Any:
    return json.loads(require(path).read_text(encoding="utf-8"))


def partnero_fixture(name: str) -> dict[str, Any]:
    """One of the Partnero bodies in ``fixtures/partnero`` (their shapes: the README there)."""
    return read_json(PARTNERO_FIXTURES / name)
