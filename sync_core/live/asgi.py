"""The webhook receiver on its own, for uvicorn: ``uvicorn sync_core.live.asgi:app --host 0.0.0.0``.

It serves the same routes as the dashboard (``/webhooks/dodo-payments``, ``/webhooks/partnero``, ``/healthz``,
``/webhooks/ping``) and starts the sync worker too (a supervised child process; ``SYNC_STUDIO_WORKER=thread``
for a thread, ``off`` for none). With ``uvicorn --workers N`` each server process starts one: run several receivers
with the worker off, and one ``python -m sync_core worker`` (on PostgreSQL, several workers are safe: one syncs
an account at a time, the others stand by). The workspace comes from the environment (``DATABASE_URL``,
``SYNC_STUDIO_DATA_DIR``, the secrets' variables), as for the dashboard.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.applications import Starlette

from sync_core.engine.workspace import Workspace
from sync_core.live.routes import LiveSync


def create_app(
    workspace_factory: Callable[[], Workspace] | None = None, *, worker: bool | str | None = None, **options
) -> Starlette:
    live = LiveSync(workspace_factory, worker=worker, **options)
    application = Starlette(routes=live.routes(), lifespan=live.lifespan)
    application.state.live = live
    return application


app = create_app()

__all__ = ["app", "create_app"]
