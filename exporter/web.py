"""HTTP endpoints: /metrics, /-/healthy, /-/ready and a landing page.

Handlers only read the engine's cache, so a scrape costs the rendering and nothing else however
slow the checked systems are.
"""

from __future__ import annotations

import html

from aiohttp import web
from prometheus_client import CollectorRegistry
from prometheus_client.aiohttp import make_aiohttp_handler

from . import __version__
from .collector import CacheCollector
from .engine import Engine
from .webconfig import WebConfig, basic_auth


def _landing(engine: Engine):
    async def handler(_: web.Request) -> web.Response:
        rows = []
        for result in sorted(engine.results(), key=lambda r: (r.family, r.check, r.target)):
            state = "ok" if result.success else f"FAILING: {result.reason}"
            cells = (result.family, result.check, result.target or "-", state, f"{result.duration:.3f}s")
            rows.append("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in cells) + "</tr>")
        families = ", ".join(html.escape(s.family.name) for s in engine.schedules) or "none"
        body = (
            "<!doctype html><html><head><meta charset='utf-8'><title>ssm-exporter</title></head><body>"
            f"<h1>ssm-exporter {html.escape(__version__)}</h1>"
            f"<p>Check families: {families}. <a href='/metrics'>Metrics</a></p>"
            "<table border='1' cellpadding='4'><tr><th>Family</th><th>Check</th><th>Target</th>"
            "<th>State</th><th>Duration</th></tr>" + "".join(rows) + "</table></body></html>"
        )
        return web.Response(text=body, content_type="text/html")

    return handler


def make_app(engine: Engine, web_config: WebConfig | None = None) -> web.Application:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(CacheCollector(engine))

    async def healthy(_: web.Request) -> web.Response:
        return web.Response(text="Healthy.\n")

    async def ready(_: web.Request) -> web.Response:
        if engine.ready.is_set():
            return web.Response(text="Ready.\n")
        return web.Response(status=503, text="Not ready: first cycle still running.\n")

    middlewares = [basic_auth(web_config.basic_auth_users)] if web_config and web_config.basic_auth_users else []
    app = web.Application(middlewares=middlewares)
    app.router.add_get("/metrics", make_aiohttp_handler(registry))
    app.router.add_get("/-/healthy", healthy)
    app.router.add_get("/-/ready", ready)
    app.router.add_get("/", _landing(engine))
    return app


async def serve(engine: Engine, host: str, port: int, web_config: WebConfig | None = None) -> tuple[web.AppRunner, int]:
    """Start listening; returns the runner (to clean up) and the bound port (for port 0)."""
    runner = web.AppRunner(make_app(engine, web_config), access_log=None, handle_signals=False)
    await runner.setup()
    ssl_context = web_config.ssl_context() if web_config else None
    site = web.TCPSite(runner, host or None, port, reuse_address=True, ssl_context=ssl_context)
    await site.start()
    return runner, runner.addresses[0][1]
