"""Binding and running the advisor: a socket bound first (a busy port is a clear error), then uvicorn on it."""

from __future__ import annotations

import socket
import threading
import time
from typing import TYPE_CHECKING

import uvicorn

from agent.core.errors import ValidationError
from agent.interfaces.web.app import create_app
from agent.interfaces.web.security import Session

if TYPE_CHECKING:
    from agent.services.app import Services


class WebServer:
    """``WebServer(services, host="127.0.0.1", port=8780, read_only=False)``; ``url`` carries the session token.

    ``port=0`` takes a free port (tests). ``run()`` serves until Ctrl-C / SIGTERM; ``start()`` and ``stop()``
    serve from a background thread.
    """

    def __init__(
        self, services: Services, *, host: str = "127.0.0.1", port: int = 8780, read_only: bool = False
    ) -> None:
        if not 0 <= port < 65536:
            raise ValidationError(f"--port must be between 1 and 65535, not {port}")
        self.session = Session()
        self.host = host
        self.read_only = read_only
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self.sock.bind((host, port))
            self.sock.listen(128)  # connections wait in the backlog from the moment the address is printed
        except OSError as e:
            self.sock.close()
            raise ValidationError(f"cannot listen on {host}:{port}: {e.strerror or e}") from None
        self.port = int(self.sock.getsockname()[1])
        app = create_app(services, self.session, read_only=read_only)
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
        self.server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return self.session.url(self.host, self.port)

    @property
    def base(self) -> str:
        return self.url.split("/?")[0]

    def run(self) -> None:
        self.server.run(sockets=[self.sock])

    def start(self, timeout: float = 10.0) -> WebServer:
        self._thread = threading.Thread(target=self.run, name="rebalancer-web", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("the web server did not start")
            time.sleep(0.02)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.sock.close()
