"""The data directory holds the database, the sandbox account and the key to the stored secrets: what the studio
creates there is readable by its owner only, whatever the umask."""

from __future__ import annotations

import os
import stat

from sync_core.engine.workspace import Workspace


def test_a_fresh_data_directory_and_its_files_are_the_owners_only(tmp_path, monkeypatch):
    old = os.umask(0o022)  # the usual umask: world-readable unless the studio says otherwise
    try:
        data = tmp_path / "fresh" / "data"
        monkeypatch.setenv("SYNC_STUDIO_DATA_DIR", str(data))
        monkeypatch.delenv("DATABASE_URL", raising=False)
        monkeypatch.delenv("SYNC_STUDIO_SECRET_KEY", raising=False)
        workspace = Workspace()
        workspace.set_api_key("mlsk_" + "k" * 40)
        with workspace.client() as client:
            client.list_groups()  # the sandbox account's file is made
        workspace.database.dispose()
    finally:
        os.umask(old)
    for folder in (data, data.parent):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder
    files = [path for path in data.rglob("*") if path.is_file()]
    assert {path.name for path in files} >= {"sync_studio.db", "secret.key", "sandbox.db"}
    for path in files:
        assert stat.S_IMODE(path.stat().st_mode) & 0o077 == 0, (path, oct(path.stat().st_mode))
