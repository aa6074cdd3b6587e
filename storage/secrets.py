"""Secrets encrypted at rest: the API key and webhook signing secrets.

The encryption key is never in the database: the caller gives it (sync_core takes ``SYNC_STUDIO_SECRET_KEY``, or
the key file that ``load_or_create_key`` generates on first use in the data directory, readable by the owner
only). A copy of the database alone reveals no secret. Fernet (AES-128-CBC + HMAC-SHA256) authenticates as well as encrypts, so tampering is detected.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from storage.db import Database
from storage.tables import Secret, utcnow


class SecretKeyError(RuntimeError):
    """The stored secrets cannot be read with the key at hand (a different key file or variable)."""


def load_or_create_key(path: Path) -> bytes:
    """The key in the key file at ``path``, or a new key written there."""
    if path.exists():
        return path.read_bytes().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = Fernet.generate_key()
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(key + b"\n")
    return key


def mask(secret: str) -> str:
    """What a page may show of a secret: its last four characters."""
    return "••••" + secret[-4:] if len(secret) > 8 else "••••"


class SecretStore:
    def __init__(self, database: Database, key: bytes):
        self.database = database
        self._fernet = Fernet(key)

    def __repr__(self) -> str:
        return f"SecretStore({self.database!r})"

    def set(self, name: str, value: str) -> None:
        token = self._fernet.encrypt(value.encode("utf-8")).decode("ascii")
        with self.database.session() as session:
            row = session.get(Secret, name) or Secret(name=name, ciphertext="")
            row.ciphertext, row.hint, row.updated_at = token, mask(value), utcnow()
            session.add(row)

    def get(self, name: str) -> str | None:
        with self.database.session() as session:
            row = session.get(Secret, name)
        if row is None:
            return None
        try:
            return self._fernet.decrypt(row.ciphertext.encode("ascii")).decode("utf-8")
        except InvalidToken:
            raise SecretKeyError(
                f"the stored secret {name!r} cannot be decrypted with this encryption key; was the key file "
                "or SYNC_STUDIO_SECRET_KEY changed? Enter the secret again to replace it"
            ) from None

    def hint(self, name: str) -> str | None:
        with self.database.session() as session:
            row = session.get(Secret, name)
        return row.hint if row else None

    def delete(self, name: str) -> None:
        with self.database.session() as session:
            row = session.get(Secret, name)
            if row is not None:
                session.delete(row)
