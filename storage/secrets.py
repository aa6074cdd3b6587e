"""Secrets encrypted at rest: the API key and webhook signing secrets.

The encryption key is never in the database: the caller gives it (sync_core takes ``SYNC_STUDIO_SECRET_KEY``, or
the key file that ``load_or_create_key`` generates on first use in the data directory, readable by the owner
only). A copy of the database alone reveals no secret, nor any part of one: nothing derived from a plaintext is
stored beside its ciphertext. Fernet (AES-128-CBC + HMAC-SHA256) authenticates as well as encrypts, so tampering
is detected; the address a secret may be sent to (the API key's) is sealed in the same ciphertext, so that it
cannot be changed in the database without the key either.

A secret replaced with ``keep_previous_until`` keeps the one it replaced (encrypted too) until that time: a
rotation's grace period. Deleting a secret deletes its previous value with it.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken

from storage.db import Database
from storage.files import PRIVATE_FILE, private_directory
from storage.tables import Secret, utcnow

#: Starts a sealed plaintext (the value and the address it is bound to); a plaintext without it is a value alone
#: (as stored before addresses were sealed). No secret starts with a NUL: the callers strip and check them.
_SEALED = "\x00"


class SecretKeyError(RuntimeError):
    """The stored secrets cannot be read with the key at hand (a different key file or variable)."""


def load_or_create_key(path: Path) -> bytes:
    """The key in the key file at ``path``, or a new key written there."""
    if path.exists():
        return path.read_bytes().strip()
    private_directory(path.parent)
    key = Fernet.generate_key()
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(key + b"\n")
    return key


@dataclass(frozen=True, slots=True)
class SecretRecord:
    """What is known of a stored secret without decrypting it: nothing of its plaintext."""

    saved_at: datetime
    previous_valid_until: datetime | None  # the replaced secret is still accepted until then (None: none kept)


@dataclass(frozen=True, slots=True)
class StoredSecret:
    value: str
    bound_to: str | None  # where the secret may be sent (the API key's address); None: saved without one
    saved_at: datetime
    previous: str | None  # the secret it replaced, while still valid at ``previous_valid_until``
    previous_valid_until: datetime | None


class SecretStore:
    def __init__(self, database: Database, key: bytes):
        self.database = database
        self._fernet = Fernet(key)

    def __repr__(self) -> str:
        return f"SecretStore({self.database!r})"

    def set(
        self, name: str, value: str, *, bound_to: str | None = None, keep_previous_until: datetime | None = None
    ) -> None:
        """Store ``value`` as ``name``. With ``keep_previous_until``, the value it replaces (when different, and
        readable) stays valid until then; without it, nothing of the replaced value is kept."""
        plaintext = value if bound_to is None else _SEALED + json.dumps({"value": value, "bound_to": bound_to})
        token = self._encrypt(plaintext)
        with self.database.session() as session:
            row = session.get(Secret, name)
            if row is None:
                row = Secret(name=name, ciphertext=token)
            elif keep_previous_until is not None:
                replaced = self._readable(name, row.ciphertext)
                if replaced is not None and replaced[0] != value:
                    row.previous_ciphertext = self._encrypt(replaced[0])
                    row.previous_valid_until = keep_previous_until
                row.ciphertext = token
            else:
                row.ciphertext, row.previous_ciphertext, row.previous_valid_until = token, None, None
            row.updated_at = utcnow()
            session.add(row)

    def get(self, name: str) -> str | None:
        stored = self.read(name)
        return stored.value if stored is not None else None

    def read(self, name: str) -> StoredSecret | None:
        """The secret, decrypted, with the address it is bound to and the previous value (``SecretKeyError``
        when the key at hand cannot decrypt it)."""
        with self.database.session() as session:
            row = session.get(Secret, name)
        if row is None:
            return None
        value, bound_to = self._open(name, row.ciphertext)
        previous = self._open(name, row.previous_ciphertext)[0] if row.previous_ciphertext else None
        return StoredSecret(value, bound_to, row.updated_at, previous, row.previous_valid_until if previous else None)

    def record(self, name: str) -> SecretRecord | None:
        """When the secret was saved and until when the replaced one is valid; nothing is decrypted."""
        with self.database.session() as session:
            row = session.get(Secret, name)
        if row is None:
            return None
        return SecretRecord(row.updated_at, row.previous_valid_until if row.previous_ciphertext else None)

    def delete(self, name: str) -> None:
        """Remove the secret and the previous value it keeps."""
        with self.database.session() as session:
            row = session.get(Secret, name)
            if row is not None:
                session.delete(row)

    def _encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def _readable(self, name: str, token: str) -> tuple[str, str | None] | None:
        try:
            return self._open(name, token)
        except SecretKeyError:
            return None  # a value no key at hand can read is not worth keeping

    def _open(self, name: str, token: str) -> tuple[str, str | None]:
        try:
            plaintext = self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except InvalidToken:
            raise SecretKeyError(
                f"the stored secret {name!r} cannot be decrypted with this encryption key; was the key file "
                "or SYNC_STUDIO_SECRET_KEY changed? Enter the secret again to replace it"
            ) from None
        if not plaintext.startswith(_SEALED):
            return plaintext, None
        sealed = json.loads(plaintext[len(_SEALED) :])
        return str(sealed["value"]), sealed.get("bound_to")
