"""Persistence: SQLModel tables, the database engine and sessions, queries and migrations.

Nothing here knows the sync domain (sync_core depends on storage, never the reverse): documents and states are
stored as JSON, and sync_core gives them meaning. Nothing here reads the environment either: the caller
(``sync_core.settings`` through the workspace) passes the database URL, the encryption key and the key file.
"""

from storage.configs import ConfigStore
from storage.db import Database, describe_url
from storage.secrets import SecretKeyError, SecretStore, load_or_create_key

__all__ = [
    "ConfigStore",
    "Database",
    "SecretKeyError",
    "SecretStore",
    "describe_url",
    "load_or_create_key",
]
