"""One writer per account: every execution and every heartbeat tick holds the account's lease.

A second writer waits up to ``[lease] wait`` and then gets :class:`~agent.core.errors.AccountBusy`
("account busy (held by pid … since …)"). While it holds the lease the executor renews it before every
order and journals each intent under its fencing token, so a writer whose lease was taken over cannot
write again. Reconcile runs only under the lease: an order another live process has in flight is never
touched. Reads never take it and never wait for it.
"""

from __future__ import annotations

import os
import socket
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING

from agent.adapters.store.leases import Lease
from agent.core.errors import AccountBusy

if TYPE_CHECKING:
    from agent.services.context import AccountContext

_HELD: ContextVar[Lease | None] = ContextVar("rebalancer_lease", default=None)


@contextmanager
def writer(acct: AccountContext, purpose: str) -> Iterator[Lease]:
    """Hold the account's lease for the block (re-entrant within one call chain)."""
    account = acct.account
    held = _HELD.get()
    if held is not None and held.account == account:
        yield held
        return
    cfg = acct.settings.lease
    ttl = cfg.ttl.total_seconds()
    owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    deadline = time.monotonic() + cfg.wait.total_seconds()
    while (lease := _acquire(acct, account, owner, ttl, purpose)) is None:
        holder = acct.store.leases.holder(account, now=time.time())
        if holder is not None and _dead_here(holder):
            acct.store.leases.expire(account, holder.owner)  # its process is gone: no need to wait out the TTL
            continue
        if time.monotonic() >= deadline:
            why = holder.describe() if holder else "held by another writer"
            raise AccountBusy(f"account busy ({why}); nothing was done, try again when it has finished")
        time.sleep(0.1)
    token = _HELD.set(lease)
    assert lease is not None
    executor = acct.executor
    if executor is not None:
        executor.lease = lease
        executor.keep_lease = lambda: acct.store.leases.renew(lease, ttl_s=ttl, now=time.time())
    try:
        yield lease
    finally:
        _HELD.reset(token)
        if executor is not None:
            executor.lease = None
            executor.keep_lease = None
        acct.store.leases.release(lease)


def _acquire(acct: AccountContext, account: str, owner: str, ttl: float, purpose: str) -> Lease | None:
    return acct.store.leases.acquire(account, owner, ttl_s=ttl, now=time.time(), pid=os.getpid(), purpose=purpose)


def _dead_here(holder: Lease) -> bool:
    """Whether the holder ran on this machine and its process no longer exists (a crash or kill -9)."""
    host = holder.owner.rsplit(":", 2)[0]
    if host != socket.gethostname() or holder.pid is None or holder.pid == os.getpid():
        return False
    try:
        os.kill(holder.pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False
