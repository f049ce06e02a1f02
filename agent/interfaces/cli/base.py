"""The ``rebalancer`` app, its exit codes and what every command shares. Translation only.

Exit codes: 0 ok (a dry-run included) · 1 unexpected error (``-v`` shows the traceback) · 2 bad input
(arguments, files, config, target) · 3 refused by a risk limit, the kill switch or a confirmation check ·
4 exchange error, or an execution that did not complete · 5 the strategist failed closed.
"""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from agent.core import errors
from agent.core.text import without_passwords
from agent.interfaces.render import console, safe

if TYPE_CHECKING:  # loaded by the commands that use them, so `--help` stays fast (a test checks which)
    from agent.core.domain import TargetAllocation
    from agent.services.app import Services
    from agent.services.config import Settings

app = typer.Typer(
    add_completion=True,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,  # plain help: rendering it with rich would triple the start-up of `--help`
    help="Keep a Hyperliquid portfolio at its target.",
)

EXIT = {
    errors.ValidationError: 2,
    errors.ConfigError: 2,
    errors.RiskLimitError: 3,
    errors.TradingPaused: 3,
    errors.ConfirmationError: 3,
    errors.AccountBusy: 3,
    errors.ClockSkewError: 3,
    errors.ExchangeError: 4,
    errors.StrategistError: 5,
}

F = TypeVar("F", bound=Callable[..., Any])
JsonOpt = Annotated[bool, typer.Option("--json", help="machine-readable output on stdout")]
ConfigOpt = Annotated[Path | None, typer.Option("--config", help="TOML config (default: ./rebalancer.toml if present)")]
SnapshotOpt = Annotated[Path | None, typer.Option("--snapshot", help="read this snapshot instead of the exchange")]
TargetOpt = Annotated[Path | None, typer.Option("--target", help="target JSON (default: the configured target)")]

#: ``-v``: show the traceback behind an unexpected error (exit 1).
VERBOSE = {"on": False}


def _version(value: bool) -> None:
    if value:
        from agent import __version__

        print(f"rebalancer {__version__}")
        raise typer.Exit(0)


@app.callback()
def _main(
    verbose: Annotated[bool, typer.Option("-v", "--verbose", help="show the traceback behind an exit 1")] = False,
    show_version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="print the version and exit")
    ] = False,
) -> None:
    VERBOSE["on"] = verbose
    if verbose:
        logging.getLogger("rebalancer").setLevel(logging.DEBUG)


def fail(message: str, code: int, as_json: bool) -> None:
    """One line on stderr (and a JSON error object on stdout with --json), then exit ``code``."""
    message = without_passwords(safe(" ".join(str(message).split())))
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
            fail(f"{e.strerror or e}: {getattr(e, 'filename', '') or ''}".rstrip(": "), 2, as_json)
        except (typer.Exit, typer.Abort, KeyboardInterrupt):
            raise
        except Exception as e:  # one line; the traceback only with -v
            if VERBOSE["on"]:
                traceback.print_exc(file=sys.stderr)
            hint = "" if VERBOSE["on"] else " (run with -v for the traceback)"
            fail(f"unexpected {type(e).__name__}: {str(e)[:200]}{hint}", 1, as_json)

    return wrapper  # type: ignore[return-value]


def read_json(path: Path) -> Any:
    """A JSON file, or a ``ValidationError`` naming the file and the problem."""
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise errors.ValidationError(f"{path}: no such file") from None
    except json.JSONDecodeError as e:
        raise errors.ValidationError(f"{path}: not valid JSON ({e.msg} at line {e.lineno})") from None


def read_target(path: Path) -> TargetAllocation:
    """A target file: a bare weight map or the strategist's answer."""
    from agent.core.targets import parse_target

    data = read_json(path)
    try:
        return parse_target(data)
    except errors.TargetValidationError as e:
        raise errors.TargetValidationError([f"{path}: {p}" for p in e.problems]) from None


def progress(what: str, as_json: bool) -> Any:
    """A spinner on a terminal for long work (nothing with --json or when output is piped)."""
    return nullcontext() if as_json or not console.is_terminal else console.status(what + "…")


def confirm_or_refuse(as_json: bool, question: Callable[[], str]) -> None:
    """Ask the person before anything is sent; refuse (ConfirmationError, exit 3) without ``--yes`` under
    ``--json`` or without a terminal, and on "no" or end of input. ``question`` may print what it asks about."""
    if as_json or not sys.stdin.isatty():
        raise errors.ConfirmationError(
            "not confirmed: pass --yes to execute without a prompt (--json or no terminal); nothing was sent"
        )
    try:
        confirmed = typer.confirm(question(), default=False)
    except typer.Abort:  # end of input counts as "no"
        confirmed = False
    if not confirmed:
        raise errors.ConfirmationError("not confirmed; nothing was sent")


def emit(as_json: bool, payload: Any, human: Callable[[], None]) -> None:
    if as_json:
        print(json.dumps(payload, indent=2, default=str))
    else:
        human()


def stop_on_signals(ctx: typer.Context, on_signal: Callable[[], None] | None = None) -> threading.Event:
    """An event that SIGINT and SIGTERM set while this command runs (``on_signal`` instead: e.g. nothing, where
    a server stops on them itself). The previous handlers come back when the command ends, so a command run
    in process (as the tests run them) leaves its caller able to be interrupted."""
    stop = threading.Event()
    handler = on_signal or stop.set
    previous = {sig: signal.signal(sig, lambda *_: handler()) for sig in (signal.SIGINT, signal.SIGTERM)}

    def restore() -> None:
        for sig, old in previous.items():
            signal.signal(sig, old)

    ctx.call_on_close(restore)
    return stop


def settings_from(config: Path | None) -> Settings:
    from agent.services.config import load_settings

    return load_settings(config)


def model_tools(services: Services) -> list[Any]:
    from tools.registry import llm_tools

    return llm_tools(services)


AccountOpt = Annotated[
    str | None, typer.Option("--account", help="an [[accounts]] name (its own database); default: the configured one")
]


@contextmanager
def runtime(
    config: Path | None,
    snapshot: Path | None = None,
    settings: Settings | None = None,
    *,
    offline: bool = False,
    account: str | None = None,
    create_store: bool | None = None,
) -> Iterator[Services]:
    """The services for one command; ``offline`` opens only the store (no exchange); ``account``: those of
    that ``[[accounts]]`` entry (the fleet's kill switch applies to it as well); ``create_store``: whether a
    missing database may be created (``runtime.open_store``'s rule when None)."""
    settings = settings or settings_from(config)
    if account is None:
        from agent.services.runtime import open_runtime

        with open_runtime(
            settings, snapshot=snapshot, model_tools=model_tools, offline=offline, create_store=create_store
        ) as svc:
            yield svc
        return
    from agent.services.fleet.accounts import open_account

    with open_account(settings, account, snapshot=snapshot, model_tools=model_tools, offline=offline) as svc:
        yield svc
