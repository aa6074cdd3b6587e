"""One engine per account: the lease is exclusive, renewable, and given up by a dead process at once."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pytest
import sqlalchemy as sa

from storage.locks import HOST, AccountBusy, AccountLease
from storage.tables import AccountLock, utcnow


def test_the_lease_is_exclusive_until_released(database):
    first = AccountLease(database, "sandbox")
    first.acquire()
    with pytest.raises(AccountBusy, match="another sync is running"):
        AccountLease(database, "sandbox").acquire()
    AccountLease(database, "mailerlite:other").acquire()  # another account is independent
    first.renew()
    first.release()
    AccountLease(database, "sandbox").acquire()


def test_an_expired_lease_can_be_taken_and_its_old_holder_cannot_renew(database):
    old = AccountLease(database, "sandbox", holder="elsewhere:1:aaaa")
    old.acquire()
    with database.engine.begin() as connection:
        connection.execute(sa.update(AccountLock).values(expires_at=utcnow() - timedelta(seconds=1)))
    new = AccountLease(database, "sandbox")
    new.acquire()
    with pytest.raises(AccountBusy, match="lost its hold"):
        old.renew()


def test_a_holder_whose_process_is_gone_is_replaced_at_once(database):
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(finished.stdout)
    AccountLease(database, "sandbox", holder=f"{HOST}:{dead_pid}:dead", seconds=3600).acquire()
    AccountLease(database, "sandbox").acquire()  # no wait for the hour-long lease
