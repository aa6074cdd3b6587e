"""Several threads, one account: the shared budget keeps the whole account under its limit."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from sync_core.sandbox import SandboxAccount, sandbox_client, serve_sandbox


def test_threads_sharing_a_client_and_a_second_client_never_get_a_429():
    account = SandboxAccount(limit=20, window_seconds=0.5, seed=5)
    with serve_sandbox(account) as server:
        http_client = sandbox_client(account, server=server)
        local_client = sandbox_client(account)  # in-process, same account: same budget
        assert http_client.budget is local_client.budget
        clients = [http_client, local_client]

        def upsert(number: int) -> bool:
            return clients[number % 2].upsert_subscriber(f"t{number}@example.com").created

        with ThreadPoolExecutor(max_workers=4) as pool:
            created = list(pool.map(upsert, range(60)))
        http_client.close()
        local_client.close()
    assert all(created) and len(account.state.subscribers) == 60
    assert account.stats.rate_limited == 0
    assert max(account.window_counts()) <= 20
