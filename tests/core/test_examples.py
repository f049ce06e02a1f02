"""Every example script runs and prints a plan.

Each runs in this process as ``python examples/<name>.py`` would run it (``runpy`` with ``__name__`` set to
``"__main__"``): the scripts read no arguments and change no process-wide state.
"""

import runpy
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).parents[2] / "examples").glob("*.py"))


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_example_runs(script, capsys):
    try:
        runpy.run_path(str(script), run_name="__main__")
    except SystemExit as exit_:  # a script may end with sys.exit(0)
        assert exit_.code in (None, 0), capsys.readouterr().err
    assert "cost" in capsys.readouterr().out
