"""Persistence: SQLModel tables, the database engine and sessions, queries and migrations.

Nothing here knows the sync domain (sync_core depends on storage, never the reverse): documents and states are
stored as JSON, and sync_core gives them meaning. Nothing here reads the environment either (but the transitional
``legacy_environment``): the caller passes the database URL, the encryption key and where the key file is.
"""

from storage.configs import ConfigStore
from storage.db import Database, describe_url
from storage.legacy_environment import data_dir, database_url
from storage.secrets import SecretKeyError, SecretStore, load_or_create_key

__all__ = [
    "ConfigStore",
    "Database",
    "SecretKeyError",
    "SecretStore",
    "data_dir",
    "database_url",
    "describe_url",
    "load_or_create_key",
]
