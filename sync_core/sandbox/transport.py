"""The sandbox in-process: an httpx transport that hands each request to a ``SandboxAccount``.

Faults behave as on the wire: latency sleeps, and a timeout fault raises ``httpx.ReadTimeout`` (at once, standing
for the client's own timeout having passed) without the request being applied.
"""

from __future__ import annotations

import time

import httpx

from .account import SandboxAccount


class SandboxTransport(httpx.BaseTransport):
    def __init__(self, account: SandboxAccount, *, sleep=time.sleep) -> None:
        self.account = account
        self._sleep = sleep

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        base = f"{url.scheme}://{url.netloc.decode('ascii')}/api"
        answer = self.account.handle(
            request.method,
            url.raw_path.split(b"?", 1)[0].decode("ascii"),
            url.query,
            dict(request.headers),
            request.read(),
            base_url=base,
        )
        if answer.delay_seconds:
            self._sleep(answer.delay_seconds)
        if answer.timeout:
            raise httpx.ReadTimeout("the sandbox did not answer in time (injected timeout)", request=request)
        return httpx.Response(answer.status, headers=answer.headers, content=answer.content(), request=request)
