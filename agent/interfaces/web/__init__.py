"""The web interface: the Rebalance Advisor (``rebalancer web``), served by uvicorn over the services.

``app`` (routes), ``pages`` (what each page shows), ``security`` (session token, CSRF, headers), ``charts``
(server-side SVG), ``sensitivity`` (the panel's hook into the services), ``server`` (binding and running).
"""

from agent.interfaces.web.app import create_app
from agent.interfaces.web.security import Session
from agent.interfaces.web.server import WebServer

__all__ = ["Session", "WebServer", "create_app"]
