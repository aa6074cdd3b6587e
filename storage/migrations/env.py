"""Alembic environment: runs on the connection handed over by storage.migrate (or the engine)."""

from alembic import context
from sqlmodel import SQLModel

from storage import tables  # noqa: F401  (the tables register themselves on the metadata)

config = context.config
connection = config.attributes.get("connection")


def run(connection) -> None:  # noqa: ANN001
    context.configure(
        connection=connection, target_metadata=SQLModel.metadata, render_as_batch=connection.dialect.name == "sqlite"
    )
    with context.begin_transaction():
        context.run_migrations()


if connection is not None:
    run(connection)
else:
    with config.attributes["engine"].begin() as fresh:
        run(fresh)
