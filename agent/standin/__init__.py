"""A faithful local stand-in of the Hyperliquid HTTP API (``/info`` and ``/exchange``) on loopback.

The real ``hyperliquid-python-sdk`` talks to it unchanged with ``base_url=server.url``::

    from agent.standin import serve, load_demo_snapshot
    with serve(load_demo_snapshot()) as server:
        info = Info(server.url, skip_ws=True, meta=..., spot_meta=...)

Modules: ``engine`` (the :class:`StandIn` state and its lock), ``orders`` (validation, matching,
settlement), ``matching`` (book walking), ``accounting`` (perp margin), ``rules`` (tick/lot),
``signing`` (signer recovery), ``actions`` (/exchange), ``views`` (/info), ``snapshot`` (parsers),
``faults`` and ``server`` (HTTP), ``demo`` (demo key and snapshot), ``build_demo`` (its builder).
"""

from agent.standin.demo import (
    DEMO_ACCOUNT_ADDRESS,
    DEMO_AGENT_ADDRESS,
    DEMO_AGENT_SECRET_KEY,
    DEMO_SECRET_KEY,
    load_demo_snapshot,
)
from agent.standin.engine import Fees, StandIn
from agent.standin.faults import Faults
from agent.standin.server import StandInServer, run_server, serve, serve_forever

__all__ = [
    "DEMO_ACCOUNT_ADDRESS",
    "DEMO_AGENT_ADDRESS",
    "DEMO_AGENT_SECRET_KEY",
    "DEMO_SECRET_KEY",
    "Faults",
    "Fees",
    "StandIn",
    "StandInServer",
    "load_demo_snapshot",
    "run_server",
    "serve",
    "serve_forever",
]
