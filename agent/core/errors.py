"""The rebalancer's exception tree: every error the package raises on purpose is one of these.

    RebalancerError
    ├── ConfigError                 a config file or env var is invalid (names the key)
    ├── ValidationError             bad input: CLI/MCP arguments, targets, snapshots, LLM answers
    │   ├── TargetValidationError   a target allocation breaks a domain rule
    │   ├── SnapshotError           a snapshot / exchange response cannot be parsed
    │   └── LotError                a sale the tax lots cannot cover, or a lot choice that does not match them
    ├── RiskLimitError              a plan breaks a limit that lives in code or config
    ├── TradingPaused               the kill switch is on
    ├── ConfirmationError           wrong, reused or expired confirm token, or the state moved
    ├── AccountBusy                 another process holds the account's writer lease
    ├── LeaseLost                   this process's lease expired and another writer took it mid-run
    ├── JournalError                an impossible journal operation (unknown cloid, backward state move)
    ├── ClockSkewError              the local clock is too far off the exchange's to execute safely
    ├── StrategistError             the LLM phase failed
    │   ├── TransportFailed         the provider was unreachable or answered an HTTP error
    │   ├── BudgetExhausted         the decision's time budget ran out
    │   ├── StrategistFailedClosed  no valid answer after the allowed retries (no order is placed)
    │   ├── ModelCallLimit          a conversation made its allowed number of model requests
    │   └── NoTargetYet             a model's tool needs a target and only the strategist could give one
    └── ExchangeError               the exchange refused or failed
        ├── TemporaryExchangeError  429, 5xx, timeouts: safe to retry a *read*
        ├── ExchangeAnswerError     an answer we cannot trust (a mid of 0, a negative balance, a missing field)
        ├── OrderOutcomeUnknown     an order may or may not exist: resolve by cloid before resending
        └── TemporalUnreachable     the Temporal frontend could not be reached (nothing was started)

A rejected order is not an exception: it is a result (``OrderResult.status == "rejected"``) the executor
journals. Interfaces convert these to exit codes (CLI) or ``ToolError`` (MCP) at the boundary.

Raised outside the tree, by design (``tests/core/test_errors.py`` holds the list):

- ``ValueError`` inside pydantic validators (pydantic turns it into a field problem, which the boundary
  reports as ``ConfigError``/``ValidationError``) and from pure functions whose callers check their input
  first; ``TypeError``, ``AssertionError``, ``ArithmeticError``, ``NotImplementedError``, ``KeyError``,
  ``RuntimeError``: programming errors and broken invariants.
- the SDK's ``ClientError``/``ServerError`` inside the Hyperliquid adapter, converted to the
  ``ExchangeError`` branch before they leave it.
- control flow that never leaves its module: ``AnswerRejected`` and ``JSONFormatError`` (the strategist
  answer's retry loop), ``_Paused`` and ``_Stop`` (the executor); ``typer.Exit``, ``ToolError`` and
  Temporal's ``ApplicationError`` are the boundaries' own conversions; ``AttributeError`` is the module
  protocol of ``agent``'s lazily loaded names.
"""

from __future__ import annotations


class RebalancerError(Exception):
    """Base class of every error this package raises on purpose."""


class ConfigError(RebalancerError):
    """A configuration value is invalid; the message names the key and the problem."""


class ValidationError(RebalancerError):
    """Input was rejected; nothing was changed."""


class TargetValidationError(ValidationError):
    """A target allocation breaks a domain rule (sum, finiteness, unknown asset, spot short, leverage)."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


class SnapshotError(ValidationError):
    """A snapshot or exchange response has a shape we cannot read."""


class LotError(ValidationError):
    """A disposal the lots cannot cover, or a lot choice that does not match them."""


class RiskLimitError(RebalancerError):
    """A plan or order breaks a hard limit."""


class TradingPaused(RebalancerError):
    """The kill switch is on: no order may be sent."""


class ConfirmationError(RebalancerError):
    """Execution refused: the confirm token is wrong, used or expired, or the account moved."""


class AccountBusy(RebalancerError):
    """Another execution or heartbeat tick holds the account's lease: one writer per account."""


class LeaseLost(RebalancerError):
    """This process no longer holds the account's lease (it expired and another writer took it)."""


class JournalError(RebalancerError):
    """An impossible journal operation (unknown cloid, backward state move, conflicting intent)."""


class ClockSkewError(RebalancerError):
    """The local clock is further off the exchange's than ``[hyperliquid] max_clock_skew``: nothing is sent."""


class StrategistError(RebalancerError):
    """The decide step could not produce a target."""


class TransportFailed(StrategistError):
    """The provider could not be reached or answered with an HTTP error. The message never holds a key."""

    def __init__(self, message: str, *, status: int | None = None, retryable: bool = False) -> None:
        self.status = status
        self.retryable = retryable
        super().__init__(message)


class BudgetExhausted(StrategistError):
    """The decision's time budget ran out (possibly while a retry was waiting)."""


class StrategistFailedClosed(StrategistError):
    """Every answer was invalid (or the budget ran out); the cycle ends without an order."""

    def __init__(self, message: str, *, status: str, raw_replies: list[str] | None = None) -> None:
        self.status = status
        self.raw_replies = list(raw_replies or [])
        super().__init__(message)


class ModelCallLimit(StrategistError):
    """The conversation has made its ``max_calls`` model requests; no further request is sent."""

    def __init__(self, max_calls: int) -> None:
        self.max_calls = max_calls
        super().__init__(f"stopped after {max_calls} model requests (the limit for one question)")


class NoTargetYet(StrategistError):
    """No target is configured or stored and the strategist has not answered yet; a tool that a model
    called may not ask the strategist (it would be a model calling a model)."""


class ExchangeError(RebalancerError):
    """The exchange refused a request or could not be reached."""


class TemporaryExchangeError(ExchangeError):
    """Rate limit, server error or timeout: a read may be retried."""


class ExchangeAnswerError(ExchangeError):
    """The exchange answered something we cannot trust: the message names the request and the field.
    Nothing is planned or sent on such an answer."""


class OrderOutcomeUnknown(ExchangeError):
    """The request may have reached the exchange; look the order up by cloid before any resend."""


class TemporalUnreachable(ExchangeError):
    """The Temporal frontend could not be reached (exit 4; nothing was created or started)."""
