"""The rebalancer's exception tree.

    RebalancerError
    ├── ConfigError                 a config file or env var is invalid (names the key)
    ├── ValidationError             bad input: CLI/MCP arguments, targets, snapshots, LLM answers
    │   ├── TargetValidationError   a target allocation breaks a domain rule
    │   └── SnapshotError           a snapshot / exchange response cannot be parsed
    ├── RiskLimitError              a plan breaks a limit that lives in code or config
    ├── TradingPaused               the kill switch is on
    ├── ConfirmationError           wrong, reused or expired confirm token, or the state moved
    ├── AccountBusy                 another process holds the account's writer lease
    ├── ClockSkewError              the local clock is too far off the exchange's to execute safely
    ├── StrategistError             the LLM phase failed
    │   ├── StrategistFailedClosed  no valid answer after the allowed retries (no order is placed)
    │   └── NoTargetYet             a model's tool needs a target and only the strategist could give one
    └── ExchangeError               the exchange refused or failed
        ├── TemporaryExchangeError  429, 5xx, timeouts: safe to retry a *read*
        ├── OrderRejected           the exchange answered with a per-order or whole-request error
        ├── ExchangeAnswerError     an answer we cannot trust (a mid of 0, a negative balance, a missing field)
        └── OrderOutcomeUnknown     an order may or may not exist: resolve by cloid before resending

Interfaces convert these to exit codes (CLI) or ``ToolError`` (MCP) at the boundary.
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


class RiskLimitError(RebalancerError):
    """A plan or order breaks a hard limit."""


class TradingPaused(RebalancerError):
    """The kill switch is on: no order may be sent."""


class ConfirmationError(RebalancerError):
    """Execution refused: the confirm token is wrong, used or expired, or the account moved."""


class AccountBusy(RebalancerError):
    """Another execution or heartbeat tick holds the account's lease: one writer per account."""


class ClockSkewError(RebalancerError):
    """The local clock is further off the exchange's than ``[hyperliquid] max_clock_skew``: nothing is sent."""


class StrategistError(RebalancerError):
    """The decide step could not produce a target."""


class StrategistFailedClosed(StrategistError):
    """Every answer was invalid (or the budget ran out); the cycle ends without an order."""

    def __init__(self, message: str, *, status: str, raw_replies: list[str] | None = None) -> None:
        self.status = status
        self.raw_replies = list(raw_replies or [])
        super().__init__(message)


class NoTargetYet(StrategistError):
    """No target is configured or stored and the strategist has not answered yet; a tool that a model
    called may not ask the strategist (it would be a model calling a model)."""


class ExchangeError(RebalancerError):
    """The exchange refused a request or could not be reached."""


class TemporaryExchangeError(ExchangeError):
    """Rate limit, server error or timeout: a read may be retried."""


class OrderRejected(ExchangeError):
    """The exchange answered with an error for an order or for the whole request."""


class ExchangeAnswerError(ExchangeError):
    """The exchange answered something we cannot trust: the message names the request and the field.
    Nothing is planned or sent on such an answer."""


class OrderOutcomeUnknown(ExchangeError):
    """The request may have reached the exchange; look the order up by cloid before any resend."""
