"""Which MailerLite account a sync goes to: a stable key (for the lease, the contact memory and the run's record)
and words a marketer recognises (for the Monitor).

The API documents no call that names the account, so a real account is known by a hash of its address and API
key (never the key itself); the built-in sandbox is one account per installation. A new key for the same account
counts as another account: its first sync sends whole contacts again, which is safe (upserts are idempotent and
non-destructive), where a wrong match would send only changes to an account that lacks the rest.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from urllib.parse import urlsplit

from sync_core.domain.config import DEFAULT_BASE_URL, SyncConfig

#: The built-in sandbox account's key.
SANDBOX = "sandbox"


@dataclass(frozen=True, slots=True)
class AccountIdentity:
    key: str  # "sandbox" or "mailerlite:<16 hex digits>", at most 100 characters
    label: str  # "Sandbox" or "MailerLite account, key saved on 2 Dec 2026" (nothing of the key itself)


def account_identity(workspace, config: SyncConfig) -> AccountIdentity:  # noqa: ANN001 - a Workspace
    """The account this configuration syncs to, as the workspace resolves it (sandbox, key, base URL)."""
    if workspace.uses_sandbox(config):
        return AccountIdentity(SANDBOX, "Sandbox")
    base_url = workspace.base_url(config).rstrip("/")
    digest = hashlib.sha256(f"{base_url}\n{workspace.api_key()}".encode()).hexdigest()
    label = f"MailerLite account, key {workspace.api_key_status().words()}"
    if base_url != DEFAULT_BASE_URL.rstrip("/"):
        label += f" at {urlsplit(base_url).netloc or base_url}"
    return AccountIdentity(f"mailerlite:{digest[:16]}", label[:200])


def run_account_label(account: str, label: str) -> str:
    """What the Monitor says about a run's account (runs from before accounts were recorded say so)."""
    if label:
        return label
    return "Sandbox" if account == SANDBOX else "not recorded (before the update)"


def account_in_use(workspace) -> AccountIdentity | None:  # noqa: ANN001 - a Workspace
    """The account the configuration in force syncs to, or None when it cannot be told (a stored key that
    cannot be decrypted): callers go on without it."""
    try:
        return account_identity(workspace, workspace.config())
    except Exception:  # noqa: BLE001 - said where the key is used, not here
        return None
