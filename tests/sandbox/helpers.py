"""Calling a sandbox account's API in-process, as a client of MailerLite would, with the sandbox's key."""

from __future__ import annotations

from typing import Any

import httpx

from sync_core.sandbox import DEFAULT_SANDBOX_KEY, SandboxAccount, SandboxTransport


def call(account: SandboxAccount, method: str, path: str, body: Any = None) -> Any:
    """The answer's JSON (``None`` for an empty one); fails the test on an error status."""
    with httpx.Client(base_url=account.inprocess_base_url + "/", transport=SandboxTransport(account)) as http:
        answer = http.request(method, path, json=body, headers={"Authorization": f"Bearer {DEFAULT_SANDBOX_KEY}"})
    assert answer.status_code < 300, answer.text
    return answer.json() if answer.content else None
