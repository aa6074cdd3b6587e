"""Persistence: SQLModel tables, the database engine and sessions, queries and migrations.

Filled in by the history-store work; the core (sync_core) is pure and does not need it.
"""
