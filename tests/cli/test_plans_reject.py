"""`rebalancer plans reject ID --reason`: the token is spent, the reason kept, and the next decision's prompt
carries it (the request body the provider receives, scripted with respx at the HTTP layer)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import respx
from clirun import invoke, invoke_json

from agent.adapters.store.db import Store

OPENAI_URL = "https://api.openai.com/v1/chat/completions"
KEY = {"OPENAI_API_KEY": "sk-test-openai-0123456789abcdef"}
REASON = "not selling SOL before the staking unlock next week"

SUBMIT = {
    "selected_strategy": "balanced-growth",
    "target_allocation": [
        {"coin": "BTC", "weight": 0.3},
        {"coin": "ETH", "weight": 0.2},
        {"coin": "USDC", "weight": 0.5},
    ],
    "reasoning": "Core only; the owner keeps SOL for now.",
}


def completion() -> dict:
    """A ``chat.completion`` calling ``submit_target``, as the API returns it."""
    call = {"id": "call_1", "type": "function", "function": {"name": "submit_target", "arguments": json.dumps(SUBMIT)}}
    message = {"role": "assistant", "content": None, "refusal": None, "annotations": [], "tool_calls": [call]}
    return {
        "id": "chatcmpl-reject1",
        "object": "chat.completion",
        "created": 1763000000,
        "model": "gpt-4.1-mini-2025-04-14",
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": "tool_calls"}],
        "usage": {"prompt_tokens": 2100, "completion_tokens": 85, "total_tokens": 2185},
    }


@pytest.fixture
def openai() -> Iterator[respx.Route]:
    """The provider at the HTTP layer; any other non-loopback request fails the test."""
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as router:
        router.route(host__in=("127.0.0.1", "localhost", "::1")).pass_through()
        yield router.post(OPENAI_URL).mock(return_value=httpx.Response(200, json=completion()))


def preview(config: Path) -> dict:
    code, plan = invoke_json("preview", "--config", str(config))
    assert code == 0 and plan["confirm_token"], plan
    return plan


def db_of(config: Path) -> Path:
    return Path(config.read_text().split('db = "')[1].split('"')[0])


def test_a_rejected_preview_is_recorded_and_its_reason_reaches_the_next_decisions_prompt(config: Path, openai):
    plan = preview(config)
    code, out = invoke_json("plans", "reject", plan["plan_id"], "--reason", f"  {REASON}\n", "--config", str(config))
    assert code == 0, out
    assert out["status"] == "rejected"
    assert out["rejection"]["reason"] == REASON and out["rejection"]["by"] == "cli"

    code, shown = invoke_json("plans", "show", plan["plan_id"], "--config", str(config))
    assert code == 0 and shown["rejection"]["reason"] == REASON
    human = invoke("plans", "show", plan["plan_id"], "--config", str(config))
    assert REASON in " ".join(human.stdout.split())
    history = invoke("history", "--config", str(config), env={"COLUMNS": "200"})
    assert history.returncode == 0 and REASON in history.stdout

    code, executed = invoke_json("execute", plan["plan_id"], "--confirm", plan["confirm_token"], "--yes",
                                 "--config", str(config))  # fmt: skip
    assert code == 3 and "rejected" in executed["error"]  # the token is burnt

    code, decision = invoke_json("decide", "--provider", "openai", "--config", str(config), env=KEY)
    assert code == 0, decision
    assert openai.call_count == 1
    body = json.loads(openai.calls[0].request.content)
    prompt = "\n".join(m["content"] for m in body["messages"] if m["role"] == "user")
    assert "<rejected_plans>" in prompt and REASON in prompt
    line = next(x for x in prompt.splitlines() if REASON in x)
    assert line.startswith(datetime.now(UTC).date().isoformat()) and "SOL" in line


def test_a_preview_left_to_expire_is_recorded_as_rejected_by_expiry_when_next_seen(config: Path, openai):
    plan = preview(config)
    store = Store(db_of(config))
    store.plans.set_expiry(plan["plan_id"], datetime.now(UTC) - timedelta(minutes=10))
    store.close()
    code, rows = invoke_json("plans", "--config", str(config))
    assert code == 0
    (row,) = [r for r in rows if r["plan_id"] == plan["plan_id"]]
    assert row["status"] == "expired"
    assert row["rejection"]["reason"] == "expired unconfirmed" and row["rejection"]["by"] == "expiry"
    code, decision = invoke_json("decide", "--provider", "openai", "--config", str(config), env=KEY)
    assert code == 0, decision
    prompt = json.loads(openai.calls[0].request.content)["messages"][-1]["content"]
    assert "expired unconfirmed" in prompt


def test_a_plan_without_a_rejection_keeps_its_shape(config: Path):
    plan = preview(config)
    code, rows = invoke_json("plans", "--config", str(config))
    assert code == 0
    assert all("rejection" not in r for r in rows) and plan["plan_id"] in {r["plan_id"] for r in rows}
    code, shown = invoke_json("plans", "show", plan["plan_id"], "--config", str(config))
    assert code == 0 and "rejection" not in shown and "rejection" not in shown["plan"]


@pytest.mark.parametrize(
    ("reason", "code", "says"),
    [
        ("", 2, "reason"),
        ("   \n\t ", 2, "reason"),
        ("x" * 501, 2, "at most 500"),
    ],
    ids=["empty", "blank", "oversized"],
)
def test_bad_reasons_are_refused_and_change_nothing(config: Path, reason: str, code: int, says: str):
    plan = preview(config)
    got, out = invoke_json("plans", "reject", plan["plan_id"], "--reason", reason, "--config", str(config))
    assert got == code and says in out["error"] and "\n" not in out["error"]
    _, shown = invoke_json("plans", "show", plan["plan_id"], "--config", str(config))
    assert shown["status"] == "previewed" and "rejection" not in shown


def test_an_unknown_plan_is_bad_input_and_a_used_one_is_refused(config: Path):
    p = invoke("plans", "reject", "no-such-plan", "--reason", "why not", "--config", str(config))
    assert p.returncode == 2 and p.stderr.strip() == "error: unknown plan id 'no-such-plan'"
    plan = preview(config)
    code, report = invoke_json("execute", plan["plan_id"], "--confirm", plan["confirm_token"], "--yes",
                               "--config", str(config))  # fmt: skip
    assert code == 0, report
    p = invoke("plans", "reject", plan["plan_id"], "--reason", "too late", "--config", str(config))
    assert p.returncode == 3
    assert "only a previewed plan can be rejected" in p.stderr and "executed:" in p.stderr
    _, shown = invoke_json("plans", "show", plan["plan_id"], "--config", str(config))
    assert shown["status"].startswith("executed:") and "rejection" not in shown
