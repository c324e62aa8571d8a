"""The web server of ``--serve``: textual-serve's page and websocket, guarded and bounded.

Routes: ``/`` the page (it needs the token), ``/ws/TOKEN`` (or ``/ws`` with ``--no-token``)
the websocket that starts one app (a Session), ``/static/`` the page's script and styles,
``/download/KEY`` what an app delivers to the browser. Every request is first checked for its
Host and Origin (serve/access.py): a refusal is a 403 with a short reason, and no app starts.
At most ``max_sessions`` apps run at once; a page or websocket over the cap gets a 503 saying
so. The server runs until SIGINT or SIGTERM, then ends every session (serve/session.py) before
the event loop closes, so that nothing is left running and nothing warns at exit.
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
from collections.abc import Awaitable, Callable, Sequence

import aiohttp_jinja2
import jinja2
from aiohttp import WSMsgType, web
from textual_serve.server import Server, to_int

from .access import Access
from .session import Session

log = logging.getLogger("backprop-tui.serve")
SHUTDOWN_SECONDS = 2.0  # for open connections to close once every app has ended
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def refused(status: int, reason: str) -> web.Response:
    return web.Response(status=status, text=f"{status}: {reason}\n")


class WebServer(Server):
    def __init__(
        self, argv: Sequence[str], host: str, port: int, title: str, access: Access, max_sessions: int
    ) -> None:
        super().__init__(" ".join(argv), host=host, port=port, title=title)
        self.argv = list(argv)
        self.access = access
        self.max_sessions = max_sessions
        self.sessions: set[Session] = set()  # from the websocket's arrival to its group's end
        self.closing = False
        self.started = asyncio.Event()  # listening (for tests that run the server in process)
        self.stop = asyncio.Event()  # set by SIGINT and SIGTERM: end every session, then serving
        self.on_listening: Callable[[], None] = lambda: None

    def initialize_logging(self) -> None:  # warnings and errors only, not a line per request
        super().initialize_logging()
        logging.getLogger("aiohttp.access").setLevel(logging.WARNING)

    @property
    def full(self) -> str | None:
        if len(self.sessions) < self.max_sessions:
            return None
        return (
            f"all {self.max_sessions} sessions of this server are in use (--max-sessions):"
            " close another tab, or try again later"
        )

    async def _make_app(self) -> web.Application:
        @web.middleware
        async def guard(request: web.Request, handler: Handler) -> web.StreamResponse:
            if reason := self.access.origin_refusal(request.headers):
                return refused(403, reason)
            return await handler(request)

        app = web.Application(middlewares=[guard])
        aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(self.templates_path))  # autoescapes
        app.add_routes(
            [
                web.get("/", self.handle_index),
                web.get("/ws", self.handle_websocket),
                web.get("/ws/{token}", self.handle_websocket),
                web.get("/download/{key}", self.handle_download),
                web.static("/static", self.statics_path),
            ]
        )
        app.on_shutdown.append(self.on_shutdown)
        return app

    async def handle_index(self, request: web.Request) -> web.StreamResponse:  # type: ignore[override]
        if reason := self.access.token_refusal(request.query.get("token")):
            return refused(403, reason)
        if reason := self.full:
            return refused(503, reason)
        token = self.access.token
        websocket = f"ws://{request.host}/ws" + (f"/{token}" if token else "")
        context = {
            "font_size": max(6, min(64, to_int(request.query.get("fontsize", "16"), 16))),
            "app_websocket_url": websocket,
            "config": {"static": {"url": f"http://{request.host}/static/"}},
            "application": {"name": self.title},
        }
        response = aiohttp_jinja2.render_template("app_index.html", request, context)
        response.headers["Referrer-Policy"] = "no-referrer"  # the token stays on this page
        return response

    async def handle_websocket(self, request: web.Request) -> web.StreamResponse:  # type: ignore[override]
        if reason := self.access.token_refusal(request.match_info.get("token")):
            return refused(403, reason)
        if self.closing:
            return refused(503, "the server is stopping")
        if reason := self.full:
            return refused(503, reason)
        websocket = web.WebSocketResponse(heartbeat=15)
        session = Session(
            self.argv,
            write_bytes=websocket.send_bytes,
            write_str=websocket.send_str,
            close=websocket.close,
            download_manager=self.download_manager,
        )
        self.sessions.add(session)  # before any await: the cap holds however many arrive at once
        try:
            await websocket.prepare(request)
            await session.start(request.query.get("width"), request.query.get("height"))
            await self._relay(websocket, session)
        except OSError as e:  # the browser went mid-message, or the app could not start
            log.warning("a session ended early: %s", e.strerror or e)
        finally:
            try:
                await session.stop()
            finally:
                self.sessions.discard(session)
        return websocket

    async def _relay(self, websocket: web.WebSocketResponse, session: Session) -> None:
        """What the page sends, to the app; anything malformed is dropped."""
        async for message in websocket:
            if message.type != WSMsgType.TEXT:
                continue
            try:
                envelope = json.loads(message.data)
            except ValueError:
                continue
            if not isinstance(envelope, list) or not envelope:
                continue
            kind, data = envelope[0], envelope[1] if len(envelope) > 1 else None
            if kind == "stdin" and isinstance(data, str):
                await session.send_bytes(data.encode("utf-8", "replace"))
            elif kind == "resize" and isinstance(data, dict):
                await session.set_terminal_size(data.get("width"), data.get("height"))
            elif kind == "ping":
                await websocket.send_json(["pong", data])
            elif kind == "blur":
                await session.blur()
            elif kind == "focus":
                await session.focus()

    async def on_shutdown(self, app: web.Application) -> None:
        """Before the connections close: end every app and its process group."""
        self.closing = True
        await asyncio.gather(*(session.stop() for session in list(self.sessions)))

    async def run(self) -> None:
        """Serve until SIGINT or SIGTERM (or the ``stop`` event), then end every session."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.stop.set)
        runner = web.AppRunner(await self._make_app(), access_log=None, shutdown_timeout=SHUTDOWN_SECONDS)
        await runner.setup()
        try:
            await web.TCPSite(runner, self.host, self.port).start()
            self.on_listening()
            self.started.set()
            await self.stop.wait()
        finally:
            await runner.cleanup()  # on_shutdown: every session ends
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.remove_signal_handler(sig)
