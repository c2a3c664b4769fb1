"""The route table: every endpoint of Ollama's native API that the Python library uses."""

from __future__ import annotations

import tornado.httputil
import tornado.web

from . import marks
from .app import Base, ServerState
from .completion import Chat, Generate
from .embed import Embed, Embeddings
from .info import Ps, Root, Show, Tags, Version
from .manage import Blobs, Copy, Create, Delete, Pull, Push


class NotFound(Base):
    """Unknown paths answer as gin does: `404 page not found` in plain text."""

    SUPPORTED_METHODS = ("GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS")

    async def prepare(self) -> None:
        raise tornado.web.HTTPError(404)


class Forbidden(Base):
    """403 with no body, as Ollama's CORS and Host checks abort a request.

    Answered from the method (after the body was read), not from `prepare`: tornado closes a
    connection whose handler finished before reading the request, even an empty one.
    """

    SUPPORTED_METHODS = NotFound.SUPPORTED_METHODS

    def set_default_headers(self) -> None:
        marks.of(self).stamp(self, flag=False)  # the server's name only, no CORS headers

    def _deny(self, *args) -> None:
        self.set_status(403)
        self.finish()

    get = head = post = put = delete = patch = options = _deny


class Preflight(Base):
    """An OPTIONS request: 204, with the CORS headers when it came from an allowed origin."""

    SUPPORTED_METHODS = ("OPTIONS",)

    def options(self, *args) -> None:
        origin = self.request.headers.get("Origin", "")
        if origin:
            for key, value in self.state.access.preflight_headers(origin).items():
                self.set_header(key, value)
            self.set_header("Vary", "Origin, Access-Control-Request-Method")
        self.set_status(204)
        self.finish()


class GuardedApplication(tornado.web.Application):
    """Ollama's order: the Origin check, then the Host check, before any route is chosen."""

    def __init__(self, state: ServerState, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.state = state

    def find_handler(self, request: tornado.httputil.HTTPServerRequest, **kwargs):
        access = self.state.access
        args = {"state": self.state}
        origin = request.headers.get("Origin", "")
        if origin and not access.origin_allowed(origin, request.host):
            return self.get_handler_delegate(request, Forbidden, args)
        if request.method == "OPTIONS" and origin:
            return self.get_handler_delegate(request, Preflight, args)
        if not access.host_allowed(request.headers.get("Host", "")):
            return self.get_handler_delegate(request, Forbidden, args)
        if request.method == "OPTIONS" and access.check_host:
            return self.get_handler_delegate(request, Preflight, args)
        return super().find_handler(request, **kwargs)


def make_app(state: ServerState) -> tornado.web.Application:
    args = {"state": state}
    routes = [
        (r"/", Root),
        (r"/api/version", Version),
        (r"/api/tags", Tags),
        (r"/api/ps", Ps),
        (r"/api/show", Show),
        (r"/api/chat", Chat),
        (r"/api/generate", Generate),
        (r"/api/embed", Embed),
        (r"/api/embeddings", Embeddings),
        (r"/api/pull", Pull),
        (r"/api/push", Push),
        (r"/api/create", Create),
        (r"/api/copy", Copy),
        (r"/api/delete", Delete),
        (r"/api/blobs/([^/]+)", Blobs),
    ]
    return GuardedApplication(
        state,
        [(path, handler, args) for path, handler in routes],
        default_handler_class=NotFound,
        default_handler_args=args,
        serve_traceback=False,
        log_function=_quiet,
    )


def _quiet(handler: tornado.web.RequestHandler) -> None:
    """No access log: 4xx answers are normal here and would spill into notebook cells."""
