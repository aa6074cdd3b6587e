"""What pages/ui.py still imports from storage: the data directory and database URL, read from the environment.

Transitional, and the only place in storage that reads the environment: ``sync_core.settings`` owns these
variables. Delete this module (and its two names in ``storage/__init__.py``) once the pages call
``sync_core.settings.get_settings()`` (``.data_dir``, ``.database_url``) instead; until then a test checks that
both agree.
"""

from __future__ import annotations

import os
from pathlib import Path

from storage.db import driver_url


def data_dir() -> Path:
    return Path(os.environ.get("SYNC_STUDIO_DATA_DIR") or Path(__file__).resolve().parent.parent / "data")


def database_url() -> str:
    return driver_url(os.environ.get("DATABASE_URL") or f"sqlite:///{data_dir() / 'sync_studio.db'}")
