"""Files and directories the studio creates for itself, readable by their owner only.

The data directory holds the database, the sandbox account and the key that decrypts the stored secrets, so
nobody else on the machine should read it: a directory the studio creates is ``0o700``, a file ``0o600``
(SQLite gives its ``-wal`` and ``-shm`` files the database file's permissions). What already exists is left as
its owner made it.
"""

from __future__ import annotations

import os
from pathlib import Path

PRIVATE_DIRECTORY = 0o700
PRIVATE_FILE = 0o600


def private_directory(path: Path) -> Path:
    """``path`` as a directory, created (with its missing parents) readable by its owner only."""
    missing = []
    for folder in (path, *path.parents):
        if folder.exists():
            break
        missing.append(folder)
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=PRIVATE_DIRECTORY)
        except FileExistsError:  # another process made it meanwhile
            continue
        os.chmod(folder, PRIVATE_DIRECTORY)  # exactly, whatever the umask
    return path


def private_file(path: Path) -> Path:
    """``path`` as a file, created empty and readable by its owner only when it does not exist yet."""
    private_directory(path.parent)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE)
    except FileExistsError:
        return path
    os.close(descriptor)
    return path


__all__ = ["PRIVATE_DIRECTORY", "PRIVATE_FILE", "private_directory", "private_file"]
