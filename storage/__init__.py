"""Persistence: SQLModel tables, the database engine and sessions, queries and migrations.

Nothing here knows the sync domain (sync_core depends on storage, never the reverse): documents and states are
stored as JSON, and sync_core gives them meaning.
"""

from storage.configs import ConfigStore
from storage.db import Database, data_dir, database_url, describe_url
from storage.secrets import SecretKeyError, SecretStore

__all__ = ["ConfigStore", "Database", "SecretKeyError", "SecretStore", "data_dir", "database_url", "describe_url"]
