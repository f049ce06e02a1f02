"""The recommended setup, tried on the stand-in as a user would: the master key approves an API wallet with
the SDK's ``approve_agent``, and ``rebalancer doctor`` run with that wallet's key passes its signer check
(an unapproved key fails it)."""

from __future__ import annotations

import json

import eth_account
from clirun import invoke, made_db
from eth_utils import keccak
from hyperliquid.exchange import Exchange

from agent.standin import DEMO_ACCOUNT_ADDRESS, DEMO_SECRET_KEY, load_demo_snapshot, serve


def signer_check(url: str, key: str, db: str) -> tuple[int, dict]:
    env = {
        "REBALANCER_DB": db,
        "REBALANCER_NETWORK": url,
        "REBALANCER_ACCOUNT_ADDRESS": DEMO_ACCOUNT_ADDRESS,
        "REBALANCER_SECRET_KEY": key,
    }
    p = invoke("doctor", "--json", env=env)
    checks = [json.loads(line) for line in p.stdout.splitlines() if line.strip()]
    return p.returncode, next(c for c in checks if c["check"] == "signer")


def test_an_api_wallet_approved_with_the_sdk_passes_doctor(tmp_path):
    with serve(load_demo_snapshot()) as srv:
        stranger = "0x" + keccak(b"doctor test: a key nobody approved").hex()
        code, signer = signer_check(srv.url, stranger, str(made_db(tmp_path / "a.db")))
        assert code == 2 and signer["ok"] is False
        master = Exchange(eth_account.Account.from_key(DEMO_SECRET_KEY), srv.url)
        answer, key = master.approve_agent("rebalancer")
        assert answer == {"status": "ok", "response": {"type": "default"}}
        code, signer = signer_check(srv.url, key, str(made_db(tmp_path / "b.db")))
        assert signer["ok"] is True, signer
        assert signer["detail"] == f"the key is an API wallet approved for {DEMO_ACCOUNT_ADDRESS.lower()}"
