"""The ``rebalancer`` command line: translation only; the work happens in services.

Exit codes: 0 ok · 1 unexpected error · 2 bad input (arguments, files, config, target) ·
3 refused by a risk limit, the kill switch or a confirmation check · 4 exchange error ·
5 the strategist failed closed.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from agent import errors
from agent.domain import RebalancingPlan, TargetAllocation
from agent.hlparse import load_snapshot
from agent.rebalancer import MODES, PortfolioRebalancer
from agent.render import print_plan

app = typer.Typer(add_completion=False, no_args_is_help=True, help="Keep a Hyperliquid portfolio at its target.")
exchange_app = typer.Typer(no_args_is_help=True, help="The local Hyperliquid stand-in.")
app.add_typer(exchange_app, name="exchange")

EXIT = {
    errors.ValidationError: 2,
    errors.ConfigError: 2,
    errors.RiskLimitError: 3,
    errors.TradingPaused: 3,
    errors.ConfirmationError: 3,
    errors.ExchangeError: 4,
    errors.StrategistError: 5,
}

F = TypeVar("F", bound=Callable[..., Any])
JsonOpt = Annotated[bool, typer.Option("--json", help="machine-readable output on stdout")]


def fail(message: str, code: int, as_json: bool) -> None:
    """One line on stderr (and a JSON error object on stdout with --json), then exit ``code``."""
    if as_json:
        print(json.dumps({"error": message, "exit_code": code}))
    print(f"error: {message}", file=sys.stderr)
    raise typer.Exit(code)


def boundary(func: F) -> F:
    """Turn our exceptions into a one-line reason and a documented exit code."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        as_json = bool(kwargs.get("as_json"))
        try:
            return func(*args, **kwargs)
        except errors.RebalancerError as e:
            code = next((c for cls, c in EXIT.items() if isinstance(e, cls)), 1)
            fail(str(e), code, as_json)
        except OSError as e:
            fail(f"{e.strerror or e}: {getattr(e, 'filename', '')}", 2, as_json)

    return wrapper  # type: ignore[return-value]


def read_target(path: Path) -> TargetAllocation:
    """A target file: a bare weight map or the strategist's answer."""
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise errors.ValidationError(f"{path}: no such file") from None
    except json.JSONDecodeError as e:
        raise errors.ValidationError(f"{path}: not valid JSON ({e.msg} at line {e.lineno})") from None
    if not isinstance(data, dict):
        raise errors.ValidationError(f"{path}: expected a JSON object of weights")
    try:
        return TargetAllocation.from_json(data)
    except Exception as e:  # pydantic's message lists every problem
        raise errors.TargetValidationError([_pydantic_problems(e)]) from None


def _pydantic_problems(e: Exception) -> str:
    from pydantic import ValidationError as PydanticError

    if isinstance(e, PydanticError):
        return "; ".join(f"{'.'.join(map(str, err['loc'][1:])) or 'target'}: {err['msg']}" for err in e.errors())
    return str(e)


def emit(as_json: bool, payload: Any, human: Callable[[], None]) -> None:
    if as_json:
        print(json.dumps(payload, indent=2, default=str))
    else:
        human()


@app.command()
@boundary
def plan(
    snapshot: Annotated[Path, typer.Option(help="snapshot JSON (Hyperliquid /info responses)")],
    target: Annotated[Path, typer.Option(help="target JSON: weights or the strategist's answer")],
    mode: Annotated[str, typer.Option(help="|".join(MODES))] = "threshold",
    position_threshold: Annotated[float, typer.Option(help="per-asset drift that triggers a trade")] = 0.05,
    portfolio_threshold: Annotated[float | None, typer.Option(help="total drift that triggers a rebalance")] = None,
    band: Annotated[float, typer.Option(help="band half-width (band mode)")] = 0.05,
    min_trade_value: Annotated[float, typer.Option(help="minimum order value, USD")] = 10.0,
    max_slippage: Annotated[float, typer.Option(help="IOC protection, fraction of mid")] = 0.005,
    calendar_days: Annotated[int, typer.Option(help="calendar mode: interval in days")] = 3,
    max_trades: Annotated[int | None, typer.Option(help="at most this many assets per cycle")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Plan a rebalance offline from a snapshot: no exchange, no orders."""
    if mode not in MODES:
        raise errors.ValidationError(f"--mode must be one of {', '.join(MODES)}, not {mode!r}")
    for name, value in (("--position-threshold", position_threshold), ("--max-slippage", max_slippage)):
        if not 0 <= value < 1:
            raise errors.ValidationError(f"{name} must be in [0, 1), not {value}")
    state, market = load_snapshot(snapshot)
    rebalancer = PortfolioRebalancer(
        min_trade_value=min_trade_value,
        max_slippage_pct=max_slippage,
        rebalance_threshold=position_threshold,
        portfolio_threshold=portfolio_threshold,
        mode=mode,  # type: ignore[arg-type]
        band=band,
        calendar_interval=timedelta(days=calendar_days),
        max_trades=max_trades,
    )
    result: RebalancingPlan = rebalancer.create_rebalancing_plan(state, read_target(target), market)
    emit(as_json, result.to_public(), lambda: print_plan(result))


def main() -> None:
    app()


if __name__ == "__main__":
    main()
