"""Start-up benchmark: ``rebalancer --help`` and ``--version`` against ``python -c "import typer"``.

Run: ``python benchmarks/startup.py [--runs 15]``. Each command runs as a fresh subprocess of this
interpreter, interleaved round by round (typer, --help, --version) so that load on a shared machine falls
on all three alike; the medians of wall-clock and CPU time are printed with their ratios to the reference, the
goal being at most 3× (wall clock).
The modules each one loads (the length of ``sys.modules`` when the process ends) and which of the heavy
dependencies it loads are printed too: ``--help`` needs typer and rich, not the exchange SDK, pydantic,
numpy, the LLM SDKs, matplotlib, starlette or temporalio (those load in the commands that use them).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

GOAL = 3.0
HEAVY = (
    "hyperliquid",
    "eth_account",
    "matplotlib",
    "starlette",
    "temporalio",
    "openai",
    "anthropic",
    "numpy",
    "pydantic",
    "httpx",
)
REFERENCE = "import typer"
HELP = (
    "import sys; sys.argv = ['rebalancer', {flag!r}]\n"
    "from agent.interfaces.cli import main\n"
    "try:\n    main()\nexcept SystemExit:\n    pass\n"
)
REPORT = (
    "import json, sys\n"
    "print(json.dumps({{'modules': len(sys.modules), 'heavy': [m for m in {heavy!r} if m in sys.modules]}}), "
    "file=sys.stderr)"
)


def program(flag: str | None) -> str:
    """The code one run executes: the reference import, or the console script's entry point with ``flag``."""
    return REFERENCE if flag is None else HELP.format(flag=flag)


def command(flag: str | None) -> list[str]:
    """What one timed run starts: the reference import, or the installed console script (the same entry point
    through ``python -c`` when this interpreter has no ``rebalancer`` beside it)."""
    script = Path(sys.executable).with_name("rebalancer")
    if flag is not None and script.exists():
        return [str(script), flag]
    return [sys.executable, "-c", program(flag)]


def timed(argv: list[str]) -> tuple[float, float]:
    """Wall-clock and CPU (user + system) seconds of one run; CPU time is the steadier on a busy machine."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def loaded(code: str) -> dict[str, object]:
    """How many modules ``code`` leaves loaded, and which heavy dependencies among them."""
    done = subprocess.run(
        [sys.executable, "-c", code + "\n" + REPORT.format(heavy=HEAVY)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stderr.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="runs of each command (the median is reported)")
    args = parser.parse_args()
    cases = {"python -c 'import typer'": None, "rebalancer --help": "--help", "rebalancer --version": "--version"}
    for flag in cases.values():  # warm the bytecode caches once
        timed(command(flag))
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in cases}
    for _ in range(args.runs):
        for name, flag in cases.items():
            times[name].append(timed(command(flag)))
    wall = {name: statistics.median(w for w, _ in runs) for name, runs in times.items()}
    cpu = {name: statistics.median(c for _, c in runs) for name, runs in times.items()}
    ref = "python -c 'import typer'"
    print(f"start-up, median of {args.runs} subprocess runs each (interleaved); {command('--help')[0]}")
    print(f"{'command':<26} {'wall ms':>8} {'× typer':>8} {'CPU ms':>7} {'× typer':>8} {'modules':>8}  heavy loaded")
    worst = 0.0
    for name, flag in cases.items():
        ratio = wall[name] / wall[ref]
        if flag is not None:
            worst = max(worst, ratio)
        info = loaded(program(flag))
        heavy = ", ".join(info["heavy"]) or "none"  # type: ignore[arg-type]
        print(
            f"{name:<26} {wall[name] * 1000:>8.1f} {ratio:>7.2f}× {cpu[name] * 1000:>7.1f} "
            f"{cpu[name] / cpu[ref]:>7.2f}× {info['modules']:>8}  {heavy}"
        )
    verdict = "meets" if worst <= GOAL else "MISSES"
    print(f"worst wall-clock ratio {worst:.2f}× against the goal of ≤ {GOAL:.0f}×: {verdict} it")


if __name__ == "__main__":
    main()
