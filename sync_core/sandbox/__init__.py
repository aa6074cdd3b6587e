"""A faithful stand-in for a MailerLite account (like stripe-mock for Stripe), in-process or over HTTP.

Typical use::

    account = SandboxAccount()                      # or SandboxAccount(state_file="data/sandbox.json")
    client = sandbox_client(account)                # in-process MailerLiteClient
    with serve_sandbox(account) as server:          # over HTTP on a free 127.0.0.1 port
        http_client = sandbox_client(account, server=server)

The command line is in ``sync_core.sandbox.cli`` (``python -m sync_core sandbox serve``).
"""

from .account import (
    DEFAULT_SANDBOX_KEY,
    NO_SUBSCRIBER,
    SANDBOX_FILE,
    SandboxAccount,
    SandboxActionError,
    SandboxResponse,
    SandboxStateError,
)
from .clients import account_budget, sandbox_client, sandbox_settings
from .faults import FaultInjector, FaultSettings
from .server import SandboxServer, serve_sandbox
from .transport import SandboxTransport

__all__ = [
    "DEFAULT_SANDBOX_KEY",
    "FaultInjector",
    "FaultSettings",
    "NO_SUBSCRIBER",
    "SANDBOX_FILE",
    "SandboxAccount",
    "SandboxActionError",
    "SandboxResponse",
    "SandboxServer",
    "SandboxStateError",
    "SandboxTransport",
    "account_budget",
    "sandbox_client",
    "sandbox_settings",
    "serve_sandbox",
]
