"""The route table: every endpoint of Ollama's native API that the Python library uses."""

from __future__ import annotations

import tornado.web

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
    return tornado.web.Application(
        [(path, handler, args) for path, handler in routes],
        default_handler_class=NotFound,
        default_handler_args=args,
        serve_traceback=False,
        log_function=_quiet,
    )


def _quiet(handler: tornado.web.RequestHandler) -> None:
    """No access log: 4xx answers are normal here and would spill into notebook cells."""
