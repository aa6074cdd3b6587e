"""Sync runs and their items: written by the engine in small transactions, read by the Monitor and the CLI."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, col, select

from storage.db import Database
from storage.statuses import ItemOutcome, RunStatus
from storage.tables import AccountLock, DailyGroup, DailyOutcome, SyncItem, SyncItemGroup, SyncRun, utcnow

#: The outcomes a run has a column for (all of them; other counts, such as duplicates, are not kept).
_COUNTED = frozenset(ItemOutcome)


class RunStore:
    def __init__(self, database: Database):
        self.database = database

    def start(self, **values: Any) -> SyncRun:
        run = SyncRun(**values)
        with self.database.session() as session:
            session.add(run)
            session.flush()
            session.refresh(run)
        return run

    def record(
        self,
        session: Session,
        run_id: int,
        items: Sequence[Mapping[str, Any]],
        groups: Mapping[int, Sequence[tuple[str, str]]] | None = None,
        extra_counts: Mapping[str, int] | None = None,
        requests: int = 0,
    ) -> None:
        """Add items (column → value) and their group changes, and bump the run's counters, in the caller's
        transaction. ``groups`` maps an item's position in ``items`` to its (group, action) pairs."""
        counts: dict[str, int] = dict(extra_counts or {})
        now = utcnow()
        rows = [
            {
                "run_id": run_id,
                "created_at": now,
                "reason": "",
                "event_type": None,
                "event_ids": [],
                "requests": [],
                "response_code": None,
                "changes": {},
                "attempts": 1,
                "dry_run": False,
                "retry_of": None,
                **item,
            }
            for item in items
        ]
        for row in rows:
            counts[row["outcome"]] = counts.get(row["outcome"], 0) + 1
        if rows:
            if groups:
                ids = (
                    session.execute(sa.insert(SyncItem).returning(col(SyncItem.id), sort_by_parameter_order=True), rows)
                    .scalars()
                    .all()
                )
                group_rows = [
                    {"item_id": ids[position], "created_at": now, "group": group[:255], "action": action}
                    for position, changes in groups.items()
                    for group, action in changes
                ]
                session.execute(sa.insert(SyncItemGroup), group_rows)
            else:
                session.execute(sa.insert(SyncItem), rows)
        if rows and not rows[0]["dry_run"]:
            self._roll_up(session, now, rows, groups)
        values = {
            name: getattr(SyncRun, name) + number for name, number in counts.items() if name in _COUNTED and number
        }
        if requests:
            values["requests"] = col(SyncRun.requests) + requests
        if values:
            session.exec(sa.update(SyncRun).where(col(SyncRun.id) == run_id).values(**values))

    def _roll_up(
        self,
        session: Session,
        now,
        rows: Sequence[Mapping[str, Any]],  # noqa: ANN001
        groups: Mapping[int, Sequence[tuple[str, str]]] | None,
    ) -> None:
        """Add the items to the daily counts (one upsert per distinct key)."""
        day = now.date()
        outcomes: dict[tuple[str, str], int] = {}
        for row in rows:
            key = (row["outcome"], row["event_type"] or "")
            outcomes[key] = outcomes.get(key, 0) + 1
        self._increment(
            session,
            DailyOutcome,
            ("day", "outcome", "event_type"),
            [{"day": day, "outcome": o, "event_type": t, "count": n} for (o, t), n in outcomes.items()],
        )
        changes: dict[tuple[str, str], int] = {}
        for pairs in (groups or {}).values():
            for group, action in pairs:
                changes[(group[:255], action)] = changes.get((group[:255], action), 0) + 1
        self._increment(
            session,
            DailyGroup,
            ("day", "group", "action"),
            [{"day": day, "group": g, "action": a, "count": n} for (g, a), n in changes.items()],
        )

    def _increment(
        self, session: Session, table: type[DailyOutcome] | type[DailyGroup], keys: tuple[str, ...], values: list[dict]
    ) -> None:
        if not values:
            return
        dialect = postgresql if self.database.kind == "postgresql" else sqlite
        statement = dialect.insert(table)
        statement = statement.on_conflict_do_update(
            index_elements=list(keys), set_={"count": col(table.count) + statement.excluded["count"]}
        )
        session.execute(statement, values)

    def finish(self, run_id: int, *, status: str, error: str = "", notes: str = "", duration_seconds: float) -> SyncRun:
        with self.database.session() as session:
            run = session.get(SyncRun, run_id)
            if run is None:
                raise LookupError(f"no sync run {run_id}")
            run.status, run.error, run.notes, run.finished_at = status, error[:2000], notes[:2000], utcnow()
            run.duration_seconds = duration_seconds
            session.add(run)
        return run

    def close_interrupted(self, error: str) -> int:
        """Mark "interrupted" the runs left "running" by a holder that no longer holds an account lock (its
        process was killed or crashed); returns how many."""
        held = select(col(AccountLock.holder))
        with self.database.session() as session:
            closed = session.exec(
                sa.update(SyncRun)
                .where(col(SyncRun.status) == RunStatus.RUNNING)
                .where(col(SyncRun.holder).not_in(held))
                .values(status=RunStatus.INTERRUPTED, error=error)
            )
            return closed.rowcount

    def get(self, run_id: int) -> SyncRun | None:
        with self.database.session() as session:
            return session.get(SyncRun, run_id)

    def latest_finished_id(self) -> int | None:
        """The newest run that has ended (any status): what the account looks like changes with it, so the
        dashboard keys its cached account report on it. One step back along the primary key."""
        query = select(col(SyncRun.id)).where(col(SyncRun.finished_at).is_not(None))
        with self.database.session() as session:
            return session.exec(query.order_by(col(SyncRun.id).desc()).limit(1)).first()

    def first_finished_at(self) -> datetime | None:
        """When the oldest run that sent something (not a dry run) ended: since then the account holds what the
        studio decided. One step along the primary key."""
        query = (
            select(col(SyncRun.finished_at))
            .where(col(SyncRun.finished_at).is_not(None))
            .where(col(SyncRun.dry_run).is_(False))
            .order_by(col(SyncRun.id))
            .limit(1)
        )
        with self.database.session() as session:
            return session.exec(query).first()

    def finished_exists(self, *, dry_run: bool, sent: bool = False) -> bool:
        """Whether a run of this kind (a dry run, or one that sends) has finished; ``sent``: one that created,
        updated, unsubscribed or deleted someone (the first-run guide's "dry run" and "sync" steps)."""
        query = (
            select(col(SyncRun.id))
            .where(col(SyncRun.status) == RunStatus.FINISHED)
            .where(col(SyncRun.dry_run).is_(dry_run))
        )
        if sent:
            query = query.where(
                (col(SyncRun.created) + col(SyncRun.updated) + col(SyncRun.unsubscribed) + col(SyncRun.deleted)) > 0
            )
        with self.database.session() as session:
            return session.exec(query.limit(1)).first() is not None

    def recent(self, limit: int = 20, offset: int = 0) -> list[SyncRun]:
        with self.database.session() as session:
            return list(session.exec(select(SyncRun).order_by(col(SyncRun.id).desc()).offset(offset).limit(limit)))

    def items(
        self,
        *,
        run_id: int | None = None,
        outcomes: Sequence[str] | None = None,
        email: str | None = None,
        ids: Sequence[int] | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[SyncItem]:
        query = select(SyncItem)
        if run_id is not None:
            query = query.where(col(SyncItem.run_id) == run_id)
        if outcomes:
            query = query.where(col(SyncItem.outcome).in_(list(outcomes)))
        if email is not None:
            query = query.where(col(SyncItem.email) == email)
        if ids is not None:
            query = query.where(col(SyncItem.id).in_(list(ids)))
        with self.database.session() as session:
            return list(session.exec(query.order_by(col(SyncItem.id).desc()).offset(offset).limit(limit)))

    def items_with_groups(
        self, run_id: int, *, after_id: int = 0, limit: int = 1000
    ) -> list[tuple[SyncItem, list[tuple[str, str]]]]:
        """A run's items in the order they were recorded, each with its (group, action) changes: a page of
        ``limit`` after the item ``after_id`` (what a dry run's changes are read from)."""
        query = (
            select(SyncItem)
            .where(col(SyncItem.run_id) == run_id)
            .where(col(SyncItem.id) > after_id)
            .order_by(col(SyncItem.id))
            .limit(limit)
        )
        with self.database.session() as session:
            items = list(session.exec(query))
            groups: dict[int, list[tuple[str, str]]] = {}
            ids = [item.id for item in items]
            if ids:
                rows = session.exec(
                    select(SyncItemGroup).where(col(SyncItemGroup.item_id).in_(ids)).order_by(col(SyncItemGroup.id))
                )
                for row in rows:
                    groups.setdefault(row.item_id, []).append((row.group, row.action))
        return [(item, groups.get(item.id or 0, [])) for item in items]
