"""``rebalancer exchange serve``: the stand-in as its own process, reached by the real SDK; its refusals (which
end the command before it serves) in this process."""

from __future__ import annotations

import signal
import socket
import subprocess
import time

from clirun import SCRIPT, invoke
from hyperliquid.info import Info

from agent.standin import DEMO_ACCOUNT_ADDRESS


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_answers_the_sdk_and_stops_on_sigterm():
    port = free_port()
    proc = subprocess.Popen([str(SCRIPT), "exchange", "serve", "--port", str(port)], stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:  # wait until it accepts connections
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "stand-in did not start"
                time.sleep(0.05)
        url = f"http://127.0.0.1:{port}"
        meta = Info(url, skip_ws=True, meta={"universe": []}, spot_meta={"tokens": [], "universe": []}).meta()
        info = Info(url, skip_ws=True, meta=meta, spot_meta={"tokens": [], "universe": []})
        assert float(info.all_mids()["BTC"]) > 0
        assert info.user_state(DEMO_ACCOUNT_ADDRESS)["assetPositions"][0]["position"]["coin"] == "AVAX"
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0


def test_serve_with_mainnet_signatures_refuses_a_testnet_signed_order():
    """``--mainnet-signatures``: the node checks mainnet signing, so the SDK's testnet-signed order (it signs
    as testnet for any URL but mainnet's) recovers to another address and is refused as on mainnet."""
    import eth_account
    from hyperliquid.exchange import Exchange

    from agent.standin import DEMO_SECRET_KEY

    port = free_port()
    cmd = [str(SCRIPT), "exchange", "serve", "--port", str(port), "--mainnet-signatures"]
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "stand-in did not start"
                time.sleep(0.05)
        url = f"http://127.0.0.1:{port}"
        meta = Info(url, skip_ws=True, meta={"universe": []}, spot_meta={"tokens": [], "universe": []}).meta()
        ex = Exchange(
            eth_account.Account.from_key(DEMO_SECRET_KEY),
            url,
            meta=meta,
            spot_meta={"tokens": [], "universe": []},
            account_address=DEMO_ACCOUNT_ADDRESS,
        )
        answer = ex.order("SOL", True, 0.2, 90.0, {"limit": {"tif": "Ioc"}})
        assert answer["status"] == "err"
        assert answer["response"].startswith("User or API Wallet 0x") and answer["response"].endswith("does not exist.")
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0


def test_serve_refuses_a_bad_snapshot(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"meta": {"universe": "nope"}}')
    p = invoke("exchange", "serve", "--snapshot", str(bad))
    assert p.returncode == 2 and p.stderr.startswith("error:")


def test_serve_on_a_busy_or_bad_port_exits_2_with_one_line():
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        for bad in (str(port), "0", "70000"):
            p = invoke("exchange", "serve", "--port", bad)
            assert p.returncode == 2, (bad, p.stderr)
            (line,) = p.stderr.strip().splitlines()
            assert line.startswith("error:") and ("port" in line or "listen" in line), line
