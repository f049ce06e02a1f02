"""The demo account: a public, fixed key pair and the committed demo snapshot.

DEMO_SECRET_KEY is a DEMO KEY. It was generated at random once for this project and published here on
purpose; it holds no funds on any chain and must never be used for anything real. The stand-in
accepts orders signed by it because the demo snapshot's ``user`` is its address. DEMO_AGENT_SECRET_KEY
is likewise public: an API (agent) wallet that the demo snapshot lists in ``approvedAgents``.
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

#: Public demo key (random, no funds anywhere). Never reuse it for real money.
DEMO_SECRET_KEY = "0x467763b541eac63de201386a4d828ab026368c5342031c15edc6bb3ead3da2ca"  # noqa: S105 - public demo key, no funds
DEMO_ACCOUNT_ADDRESS = "0xFF44aC95C64b5ea2f6D62a90A24a55bC74aDF99C"

#: Public demo API-wallet key (random, no funds anywhere), approved for the demo account.
DEMO_AGENT_SECRET_KEY = "0x5aeb5b14e63324ed2da0ad89dbc822a69eae46e71278b2ee3fb7406d11a89b02"  # noqa: S105 - public demo key
DEMO_AGENT_ADDRESS = "0x87D2F67147a09A898519f9b2791bf22a6D75Bb32"

DEMO_SNAPSHOT_FILE = "demo_snapshot.json"


def load_demo_snapshot() -> dict[str, Any]:
    """The committed demo snapshot (agent/data/demo_snapshot.json), a fresh dict on every call."""
    text = resources.files("agent").joinpath("data", DEMO_SNAPSHOT_FILE).read_text(encoding="utf-8")
    snapshot: dict[str, Any] = json.loads(text)
    return snapshot
