"""Configuration versions: every save is a new row, nothing is overwritten (who, when, why)."""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select

from storage.db import Database
from storage.tables import ConfigVersion


class ConfigStore:
    def __init__(self, database: Database):
        self.database = database

    def save(self, document: dict[str, Any], *, author: str = "", comment: str = "") -> ConfigVersion:
        version = ConfigVersion(document=document, author=author[:200], comment=comment[:500])
        with self.database.session() as session:
            session.add(version)
            session.flush()
            session.refresh(version)
        return version

    def latest(self) -> ConfigVersion | None:
        with self.database.session() as session:
            return session.exec(select(ConfigVersion).order_by(col(ConfigVersion.id).desc()).limit(1)).first()

    def get(self, version_id: int) -> ConfigVersion | None:
        with self.database.session() as session:
            return session.get(ConfigVersion, version_id)

    def versions(self, limit: int = 50) -> list[ConfigVersion]:
        """The newest versions first (without loading more than ``limit``)."""
        with self.database.session() as session:
            return list(session.exec(select(ConfigVersion).order_by(col(ConfigVersion.id).desc()).limit(limit)))
