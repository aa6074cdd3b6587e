"""Live sync: signed webhooks in (Dodo Payments, Partnero), stored durably, synced by the worker.

- ``verify``: signature checks (Standard Webhooks for Dodo Payments, hex HMAC for Partnero);
- ``receiver``: the decision for one request, framework-free;
- ``writer``: group commit of verified events;
- ``routes``: the Starlette routes and ``LiveSync`` (routes + lifespan starting the worker), for ``st.App``;
- ``asgi``: the same, alone, for uvicorn (``sync_core.live.asgi:app``).
"""

from sync_core.live.receiver import WEBHOOK_PATHS
from sync_core.live.routes import HEALTH_PATH, PING_PATH, LiveSync, webhook_routes
from sync_core.live.verify import SignatureError, partnero_signature

__all__ = [
    "HEALTH_PATH",
    "PING_PATH",
    "WEBHOOK_PATHS",
    "LiveSync",
    "SignatureError",
    "partnero_signature",
    "webhook_routes",
]
