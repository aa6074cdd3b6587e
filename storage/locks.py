"""One sync engine per MailerLite account at a time.

A lease row (holder, expiry) works on SQLite and PostgreSQL alike; the holder renews it while it works. A
holder on this machine whose process is gone (killed) is replaced at once, not only when the lease expires.
"""

from __future__ import annotations

import os
import socket
import uuid
from datetime import timedelta

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from storage.db import Database
from storage.tables import AccountLock, utcnow

HOST = socket.gethostname()


class AccountBusy(RuntimeError):
    """Another sync is running for this account."""


def new_holder() -> str:
    return f"{HOST}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def holder_is_gone(holder: str) -> bool:
    """The holder ran on this machine and its process is gone (killed, crashed); False when it cannot tell."""
    return _holder_is_gone(holder)


def _holder_is_gone(holder: str) -> bool:
    host, _, rest = holder.partition(":")
    pid_text = rest.partition(":")[0]
    if host != HOST or not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


class AccountLease:
    def __init__(self, database: Database, account: str, *, holder: str | None = None, seconds: float = 60):
        self.database, self.account, self.seconds = database, account, seconds
        self.holder = holder or new_holder()

    def acquire(self) -> None:
        """Take the lease or raise ``AccountBusy`` naming who holds it."""
        now = utcnow()
        expires = now + timedelta(seconds=self.seconds)
        with self.database.engine.begin() as connection:
            taken = connection.execute(
                sa.update(AccountLock)
                .where(col(AccountLock.account) == self.account)
                .where(sa.or_(col(AccountLock.expires_at) < now, col(AccountLock.holder) == self.holder))
                .values(holder=self.holder, expires_at=expires)
            ).rowcount
            if taken:
                return
            current = connection.execute(
                sa.select(col(AccountLock.holder)).where(col(AccountLock.account) == self.account)
            ).scalar()
        if current is None:
            try:
                with self.database.engine.begin() as connection:
                    connection.execute(
                        sa.insert(AccountLock).values(account=self.account, holder=self.holder, expires_at=expires)
                    )
                return
            except IntegrityError:
                pass  # someone else inserted it first
        elif _holder_is_gone(current):
            with self.database.engine.begin() as connection:
                taken = connection.execute(
                    sa.update(AccountLock)
                    .where(col(AccountLock.account) == self.account)
                    .where(col(AccountLock.holder) == current)
                    .values(holder=self.holder, expires_at=expires)
                ).rowcount
            if taken:
                return
        raise AccountBusy(
            f"another sync is running for this MailerLite account ({current}); try again when it has finished"
        )

    def renew(self) -> None:
        with self.database.engine.begin() as connection:
            renewed = connection.execute(
                sa.update(AccountLock)
                .where(col(AccountLock.account) == self.account)
                .where(col(AccountLock.holder) == self.holder)
                .values(expires_at=utcnow() + timedelta(seconds=self.seconds))
            ).rowcount
        if not renewed:
            raise AccountBusy("this sync lost its hold on the account (it was idle too long); it stops here")

    def release(self) -> None:
        with self.database.engine.begin() as connection:
            connection.execute(
                sa.delete(AccountLock)
                .where(col(AccountLock.account) == self.account)
                .where(col(AccountLock.holder) == self.holder)
            )

    def __enter__(self) -> AccountLease:
        self.acquire()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.release()
