"""A password in a PostgreSQL ``db`` URL never leaves the process in clear: ``config show``, ``doctor``,
``db init``, the heartbeat's start line, the worker's first line, errors, MCP and the web page print
``postgresql://user:***@host/db``. Through the console script on a real PostgreSQL server (``tests/pgkit``),
whose trust authentication accepts any password, so every command really runs on it."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator

import pytest
from clirun import SCRIPT, clean_env, run
from pgkit import find_bin, fresh_schema, postgres_server

pytestmark = [
    pytest.mark.slow,  # one PostgreSQL server and a dozen console-script runs
    pytest.mark.skipif(find_bin() is None, reason="PostgreSQL is not installed (apt-get install postgresql)"),
]

SECRET = "Pw-9f3kQz7WxLe"


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    with postgres_server() as url:
        yield url


def _with_password(url: str) -> str:
    return url.replace("postgresql://postgres@", f"postgresql://postgres:{SECRET}@")


def _outputs(p: subprocess.CompletedProcess) -> str:
    return f"{p.stdout}\n{p.stderr}"


def test_no_command_prints_the_db_password(tmp_path, pg_url):
    db = _with_password(fresh_schema(pg_url))
    cfg = tmp_path / "rebalancer.toml"
    cfg.write_text(f'network = "local"\ndb = "{db}"\n')
    c = ("--config", str(cfg))
    runs = {
        "db init": run("db", "init", *c),
        "db init --json": run("db", "init", *c, "--json"),
        "config show": run("config", "show", *c),
        "config show --json": run("config", "show", *c, "--json"),
        "doctor": run("doctor", *c),
        "doctor --json": run("doctor", *c, "--json"),
        "status": run("status", *c, "--json"),
        "pause": run("pause", "--reason", "test", *c),
        "history": run("history", *c, "--json"),
        "heartbeat": run("-v", "heartbeat", "--once", "--autonomy", "advise", *c),
    }
    unreachable = tmp_path / "down.toml"
    port_1 = db.split("@", 1)[0] + "@127.0.0.1:1/postgres"
    unreachable.write_text(f'network = "local"\ndb = "{port_1}"\n')
    for name in ("status", "config show", "doctor", "db init"):
        runs[f"{name} (server down)"] = run(*name.split(), "--config", str(unreachable))
    runs["env REBALANCER_DB"] = run("config", "show", "--json", env={"REBALANCER_DB": db}, cwd=tmp_path)

    leaked = {name: _outputs(p) for name, p in runs.items() if SECRET in _outputs(p)}
    assert not leaked, sorted(leaked)
    shown = json.loads(runs["config show --json"].stdout)
    assert shown["db"].startswith("postgresql://postgres:***@127.0.0.1:"), shown["db"]
    assert runs["db init"].returncode == 0 and runs["status"].returncode == 0, runs["status"].stderr
    assert "postgres:***@" in runs["db init"].stdout
    assert runs["heartbeat"].returncode == 0 and "database postgresql://postgres:***@" in runs["heartbeat"].stdout
    down = runs["status (server down)"]
    assert down.returncode == 2 and "cannot reach PostgreSQL at postgresql://postgres:***@127.0.0.1:1" in down.stderr


def test_the_mcp_server_and_the_web_page_do_not_show_the_db_password(tmp_path, pg_url):
    import anyio
    import httpx
    from fastmcp import Client

    from agent.interfaces.web import WebServer
    from agent.services.config import load_settings
    from agent.services.runtime import init_store, open_runtime
    from tools.server import build_server

    db = _with_password(fresh_schema(pg_url))
    cfg = tmp_path / "rebalancer.toml"
    cfg.write_text(f'network = "local"\ndb = "{db}"\n')
    settings = load_settings(cfg, env={})
    init_store(settings)
    with open_runtime(settings) as svc:

        async def ask() -> str:
            async with Client(build_server(svc)) as c:
                tools = await c.list_tools()
                out = [json.dumps([t.model_dump(mode="json") for t in tools])]
                for name in ("get_portfolio", "get_history", "preview_rebalance"):
                    r = await c.call_tool(name, {}, raise_on_error=False)
                    out.append(json.dumps(r.structured_content) + str(r.content))
                return "\n".join(out)

        mcp = anyio.run(ask)
        server = WebServer(svc, port=0).start()
        try:
            with httpx.Client(follow_redirects=True, timeout=60) as http:
                pages = [http.get(server.url).text]
                pages += [http.get(server.base + p).text for p in ("/history", "/settings")]
        finally:
            server.stop()
    assert SECRET not in mcp
    assert all(SECRET not in page for page in pages)
    # the worker's first line names the store without the password
    worker = subprocess.run(
        [str(SCRIPT), "fleet", "worker", "--temporal", "127.0.0.1:1", "--config", str(cfg)],
        capture_output=True,
        text=True,
        timeout=60,
        env=clean_env(),
        check=False,
    )
    assert SECRET not in worker.stdout + worker.stderr, worker.stderr
