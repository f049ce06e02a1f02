"""``rebalancer chat``: ask the configured model about the portfolio; it may propose, only the person commits.

The model gets the registry's read-only tools plus ``preview_rebalance`` and ``set_target_allocation`` (the
same definitions the MCP server publishes), through the one bounded tool-call loop the strategist uses
(:mod:`agent.strategist.conversation`): at most ``[chat] max_model_calls`` requests per question, then one
line says the question was stopped. Results are wrapped as untrusted data.

This program prints what the tools return, whatever the model says about it: the drift table after
``get_drift``, the real plan after ``preview_rebalance``, the proposed target after
``set_target_allocation``; the model adds words. The model never sees a confirm token and cannot commit
anything: a previewed plan executes only when the person types ``confirm <plan_id>``, and a proposed target
is stored (through the same service as MCP's ``set_target_allocation``) only when they type ``confirm
target``. After a preview, "no", "no, <reason>" or "reject <reason>" rejects it (the same service as
``plans reject``): its token is spent and the reason goes to the strategist's next decision. With no model
configured (provider ``offline``) the chat says so and still answers "drift" / "status" with the drift table,
``target BTC=0.4 ETH=0.3 USDC=0.3`` and ``preview``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any

from agent.core.domain import RebalancingPlan
from agent.core.errors import ModelCallLimit, RebalancerError, StrategistError, ValidationError
from agent.interfaces import render
from agent.strategist import tool_names
from agent.strategist.conversation import Conversation, call_tool
from agent.strategist.providers import AssistantTurn, ModelClient, ModelTurn, ToolDef, UserText
from agent.strategist.summary import load_system_prompt

if TYPE_CHECKING:
    from agent.services.app import Services

CHAT_TOOLS = tool_names.CHAT
CONFIRM = re.compile(r"^confirm\s+(\S+)$", re.IGNORECASE)
#: the person says no to the latest preview: "no", "no, <reason>", "reject <reason>" (or "reject <plan_id> <reason>")
REJECT = re.compile(
    r"^(?:reject\b\s*(?P<why>.*)|no(?:pe)?[.!]?|no\s*[,:;-]\s*(?P<because>.+))$", re.IGNORECASE | re.DOTALL
)
SAID_NO = "said no in the chat"
TARGET_LINE = re.compile(r"^(?:set\s+)?target\s+(.+)$", re.IGNORECASE)
QUIT = {"quit", "exit", "q", ":q"}

OFFLINE_HINT = (
    "No model is configured (strategist.provider = offline), so I can't hold a conversation. "
    "Type 'drift' or 'status' for the drift table, 'target BTC=0.4 ETH=0.3 USDC=0.3' to set a target, "
    "'preview' to plan toward it, 'quit' to leave; `rebalancer status` and `rebalancer preview` do the rest."
)


def chat(
    services: Services,
    *,
    input_fn: Callable[[str], str] = input,
    output: Callable[[str], Any] = print,
    strategist_client: ModelClient | None = None,
    model: str | None = None,
) -> None:
    """Run the conversation until 'quit' or end of input."""
    client, model_name = strategist_client, model or services.settings.strategist.model or "scripted"
    if client is None and services.settings.strategist.provider != "offline":
        from agent.services.trading.targets import build_model_client
        from agent.services.trading.targets import model_name as configured_model

        client, model_name = build_model_client(services.settings), configured_model(services.settings)
    session = _Session(services, output, client, model_name)
    output(OFFLINE_HINT if client is None else f"Chatting with {client.provider} ({model_name}). 'quit' to leave.")
    while True:
        try:
            line = input_fn("you> ").strip()
        except (EOFError, KeyboardInterrupt):
            break
        if line.lower() in QUIT:
            break
        if line:
            session.handle(line)


@dataclass(frozen=True)
class _Proposal:
    weights: dict[str, float]
    reasoning: str


class _Session:
    def __init__(self, services: Services, output: Callable[[str], Any], client: ModelClient | None, model: str):
        from tools.registry import by_name

        self.services = services
        self.output = output
        self.client = client
        self.model = model
        registry = by_name()
        self.tools = {name: registry[name] for name in CHAT_TOOLS}
        self.tool_defs = tuple(ToolDef(t.name, t.description, t.input_schema) for t in self.tools.values())
        self.system = (load_system_prompt("chat.md"),)
        self.messages: list[Any] = []
        self.pending: dict[str, str] = {}  # plan_id -> confirm token (never shown to the model)
        self.proposal: _Proposal | None = None  # a target shown to the person, stored on "confirm target"

    def handle(self, line: str) -> None:
        m = CONFIRM.match(line)
        said_no = REJECT.match(line)
        if m:
            self.confirm(m.group(1))
        elif said_no and (self.pending or line.lower().startswith("reject")):
            self.reject((said_no.group("why") or said_no.group("because") or "").strip())
        elif self.client is None:
            self.offline(line)
        else:
            self.ask(line)

    # -- the person's side: confirmations and the offline answers ------------------------------------

    def confirm(self, what: str) -> None:
        if what.lower() == "target":
            self.store_target()
            return
        token = self.pending.pop(what, None)
        if token is None:
            self.output(f"No preview {what!r} in this chat; ask for a preview first.")
            return
        try:
            report = self.services.execute(what, token, source="chat")
        except RebalancerError as e:
            self.output(f"Refused: {e}")
            return
        self.output(_capture(lambda: render.print_execution(report)))

    def reject(self, why: str) -> None:
        """Reject this chat's latest preview (or the one ``why`` names first) with the person's reason."""
        first, _, rest = why.partition(" ")
        plan_id = first if first in self.pending else next(reversed(self.pending), None)
        if plan_id is None:
            self.output("No preview in this chat to reject; ask for a preview first.")
            return
        reason = (rest if first == plan_id else why).strip() or SAID_NO
        try:
            out = self.services.reject_plan(plan_id, reason, source="chat")
        except RebalancerError as e:
            self.output(f"Refused: {e}")
            return
        self.pending.pop(plan_id, None)
        self.output(f"Plan {plan_id} rejected: {out['rejection']['reason']}. The next decision will see why.")

    def store_target(self) -> None:
        proposal, self.proposal = self.proposal, None
        if proposal is None:
            self.output("No target proposed in this chat; propose one first.")
            return
        try:
            result = self.tools["set_target_allocation"].call(
                self.services, {"weights": proposal.weights, "reasoning": proposal.reasoning}, caller="chat"
            )
        except RebalancerError as e:
            self.output(f"Refused: {e}")
            return
        self.output(f"Target stored. {result['detail']}")

    def offline(self, line: str) -> None:
        words = line.lower()
        target = TARGET_LINE.match(line)
        try:
            if target:
                self.propose({"weights": _weights(target.group(1)), "reasoning": "set in the chat"})
            elif re.search(r"\bpreview\b", words):
                self.preview({})
            elif re.search(r"\b(drift|status)\b", words):
                self.output(_capture(lambda: render.print_drift(self.services.plan())))
            else:
                self.output(OFFLINE_HINT)
        except RebalancerError as e:
            self.output(f"error: {e}")

    # -- the model's side ---------------------------------------------------------------------------

    def ask(self, line: str) -> None:
        assert self.client is not None
        start = len(self.messages)
        self.messages.append(UserText(line))
        conv = Conversation(
            self.client,
            model=self.model,
            system=self.system,
            tools=self.tool_defs,
            max_calls=self.services.settings.chat.max_model_calls,
            messages=self.messages,
        )
        try:
            text = conv.run(lambda turn: self.step(conv, turn), require_tool=False)
        except ModelCallLimit as e:
            del self.messages[start:]  # keep the conversation well formed for the next question
            self.output(f"(no answer: {e}; [chat] max_model_calls = {e.max_calls})")
            return
        except StrategistError as e:
            del self.messages[start:]
            self.output(f"The model is unavailable: {e}")
            return
        self.output(text or "(no answer)")

    def step(self, conv: Conversation, turn: ModelTurn) -> str | None:
        """The model's final words, or None after running the tools it called."""
        if not turn.tool_calls:
            text = (turn.refusal if turn.stop == "refusal" else turn.text) or ""
            self.messages.append(AssistantTurn(text=text))
            return text
        results = [call_tool(c, partial(self.run_tool, c.name)).result for c in turn.tool_calls]
        conv.answer(turn, results)
        return None

    def run_tool(self, name: str, args: dict[str, Any]) -> dict[str, Any]:
        """One tool for the model; what a person should see is printed here, from the tool's own result."""
        if name not in self.tools:
            raise ValidationError(f"unknown tool {name[:64]!r}; committing is the person's job (confirm ...)")
        if name == "preview_rebalance":
            return self.preview(args)
        if name == "set_target_allocation":
            return self.propose(args)
        result = self.tools[name].call(self.services, args, caller="chat")
        result.pop("note", None)
        if name == "get_drift":
            self.output(_capture(lambda: render.print_drift(result)))
            result["shown_to_the_person"] = "the drift table above"
        return result

    def preview(self, args: dict[str, Any]) -> dict[str, Any]:
        """Print the real plan for the person, keep its token here, and give the model the plan without it."""
        result = self.tools["preview_rebalance"].call(self.services, args, caller="chat")
        result.pop("note", None)
        token = result.pop("confirm_token", None)
        plan = RebalancingPlan.model_validate(result)
        if token:
            self.pending[plan.plan_id] = token
        shown = _capture(lambda: render.print_plan(plan))
        how = (
            f"To execute it, type: confirm {plan.plan_id} (or say no: reject <reason>)"
            if plan.actions and token
            else "Nothing to execute."
        )
        self.output(f"{shown}\n{how}")
        return {**result, "to_execute": f"the person types: confirm {plan.plan_id}"}

    def propose(self, args: dict[str, Any]) -> dict[str, Any]:
        """Check a target against the tool's own argument rules, show it, and keep it for ``confirm target``."""
        from agent.core.targets import parse_target

        parsed = self.tools["set_target_allocation"].parse(args).model_dump()
        weights, reasoning = dict(parsed["weights"]), str(parsed.get("reasoning") or "")
        target = parse_target(weights, reasoning=reasoning)  # sums and finiteness
        self.proposal = _Proposal(weights, reasoning)
        rows = [[coin, f"{w * 100:.1f}%"] for coin, w in sorted(target.allocations.items())]
        shown = _capture(lambda: render.table("Proposed target", ("Asset", "Weight"), rows, right=("Weight",)))
        self.output(f"{shown}\nTo store it, type: confirm target")
        return {"stored": False, "proposed": target.allocations, "to_store": "the person types: confirm target"}


def _weights(text: str) -> dict[str, float]:
    """``BTC=0.4 ETH=0.3 USDC=0.3`` (or with ``:`` or commas) as a weight map; a bad pair is an error."""
    out: dict[str, float] = {}
    for pair in re.split(r"[\s,]+", text.strip()):
        m = re.fullmatch(r"([A-Za-z0-9@/_.:-]+)[=:]([-+]?\d*\.?\d+)(%?)", pair)
        if m is None:
            raise ValidationError(f"cannot read {pair!r}: write COIN=WEIGHT, e.g. BTC=0.4")
        out[m.group(1)] = float(m.group(2)) / (100 if m.group(3) else 1)
    return out


def _capture(show: Callable[[], None]) -> str:
    with render.console.capture() as cap:
        show()
    return cap.get().rstrip()
