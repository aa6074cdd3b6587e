"""Run requests: a person asks for a run on the Run sync page; a worker (or the dashboard) takes it, writes its
progress, and reads whether the person asked it to stop.

Taking a request is one conditional UPDATE, so when several workers (or a worker and the dashboard) look at
once, exactly one of them gets it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select

from storage.db import Database
from storage.locks import holder_is_gone
from storage.statuses import RequestStatus
from storage.tables import RunRequest, utcnow


class RunRequestStore:
    def __init__(self, database: Database):
        self.database = database

    def create(self, *, dry_run: bool, contact_limit: int | None, trigger: str = "dashboard") -> RunRequest:
        request = RunRequest(dry_run=dry_run, contact_limit=contact_limit, trigger=trigger)
        with self.database.session() as session:
            session.add(request)
            session.flush()
            session.refresh(request)
        return request

    def get(self, request_id: int) -> RunRequest | None:
        with self.database.session() as session:
            return session.get(RunRequest, request_id)

    def unfinished(self, triggers: Sequence[str] = (), *, other_than: Sequence[str] = ()) -> RunRequest | None:
        """The oldest request not done yet (queued or running), or None; only of these ``triggers`` when given,
        and none of ``other_than``."""
        query = select(RunRequest).where(col(RunRequest.status).in_([RequestStatus.QUEUED, RequestStatus.RUNNING]))
        if triggers:
            query = query.where(col(RunRequest.trigger).in_(list(triggers)))
        if other_than:
            query = query.where(col(RunRequest.trigger).not_in(list(other_than)))
        query = query.order_by(col(RunRequest.id)).limit(1)
        with self.database.session() as session:
            return session.exec(query).first()

    def next_queued(self) -> RunRequest | None:
        query = (
            select(RunRequest)
            .where(col(RunRequest.status) == RequestStatus.QUEUED)
            .order_by(col(RunRequest.id))
            .limit(1)
        )
        with self.database.session() as session:
            return session.exec(query).first()

    def claim(self, request_id: int, *, holder: str, runner: str) -> bool:
        """Take a queued request; False when someone else took it first (or it was cancelled meanwhile)."""
        now = utcnow()
        with self.database.engine.begin() as connection:
            taken = connection.execute(
                sa.update(RunRequest)
                .where(col(RunRequest.id) == request_id)
                .where(col(RunRequest.status) == RequestStatus.QUEUED)
                .values(status=RequestStatus.RUNNING, holder=holder, runner=runner, started_at=now, updated_at=now)
            ).rowcount
        return bool(taken)

    def give_back(self, request_id: int) -> None:
        """Put a taken request back in the queue (its taker could not start it yet: the account was busy)."""
        with self.database.engine.begin() as connection:
            connection.execute(
                sa.update(RunRequest)
                .where(col(RunRequest.id) == request_id)
                .where(col(RunRequest.status) == RequestStatus.RUNNING)
                .values(status=RequestStatus.QUEUED, holder="", started_at=None)
            )

    def update(self, request_id: int, **values: Any) -> None:
        """Progress (contacts done, requests, the run's id), written by the one who runs it."""
        with self.database.engine.begin() as connection:
            connection.execute(
                sa.update(RunRequest).where(col(RunRequest.id) == request_id).values(updated_at=utcnow(), **values)
            )

    def finish(self, request_id: int, *, run_id: int | None = None, error: str = "") -> None:
        values: dict[str, Any] = {"status": RequestStatus.DONE, "finished_at": utcnow(), "error": error[:2000]}
        if run_id is not None:
            values["run_id"] = run_id
        self.update(request_id, **values)

    def close_abandoned(self, error: str) -> int:
        """End the running requests whose process is gone (a server restarted, a worker killed): their runs are
        closed as interrupted by the next run, and what they did not record still waits. Returns how many."""
        with self.database.engine.connect() as connection:
            running = connection.execute(
                sa.select(col(RunRequest.id), col(RunRequest.holder)).where(
                    col(RunRequest.status) == RequestStatus.RUNNING
                )
            ).all()
        gone = [row[0] for row in running if row[1] and holder_is_gone(row[1])]
        if gone:
            now = utcnow()
            with self.database.engine.begin() as connection:
                connection.execute(
                    sa.update(RunRequest)
                    .where(col(RunRequest.id).in_(gone))
                    .where(col(RunRequest.status) == RequestStatus.RUNNING)
                    .values(status=RequestStatus.DONE, finished_at=now, updated_at=now, error=error)
                )
        return len(gone)

    def cancel(self, request_id: int) -> None:
        """Ask a request to stop: a queued one ends at once (no run is made), a running one stops between two
        batches."""
        now = utcnow()
        with self.database.engine.begin() as connection:
            connection.execute(
                sa.update(RunRequest)
                .where(col(RunRequest.id) == request_id)
                .where(col(RunRequest.status) == RequestStatus.QUEUED)
                .values(
                    status=RequestStatus.DONE,
                    cancel_requested=True,
                    finished_at=now,
                    updated_at=now,
                    error="cancelled before it started; nothing was sent",
                )
            )
            connection.execute(
                sa.update(RunRequest)
                .where(col(RunRequest.id) == request_id)
                .where(col(RunRequest.status) == RequestStatus.RUNNING)
                .values(cancel_requested=True)
            )

    def cancel_requested(self, request_id: int) -> bool:
        with self.database.engine.connect() as connection:
            return bool(
                connection.execute(
                    sa.select(col(RunRequest.cancel_requested)).where(col(RunRequest.id) == request_id)
                ).scalar()
            )
