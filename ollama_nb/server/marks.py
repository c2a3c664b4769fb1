"""Which marks tell a practice server from a real Ollama: one policy per server state.

A learner must always be able to tell the practice server from a real model, so its answers
carry a `Server` name and `X-Ollama-Practice: 1` (ollama_nb.connection reads it) and its
replies are labelled `[practice server]`. Posing as a real Ollama (pose.py) needs the exact
opposite everywhere at once: a mark left on one error page or in one thinking text would
let the real-mode tests pass against something no learner's Ollama does. So every handler and
every reply asks this one object (`ServerState.marks`) instead of checking for posing itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from tornado.web import RequestHandler

PRACTICE_HEADER = "X-Ollama-Practice"
SERVER_NAME = "ollama_nb practice server"


@dataclass(frozen=True)
class Marks:
    """`server`: the `Server` header (None: none at all, as Go's net/http sends none);
    `flag`: whether answers carry `X-Ollama-Practice: 1` and `/api/version` says
    `"practice": true`; `labels`: whether replies (content, thinking, fill-in-the-middle,
    tool answers, image descriptions) say they come from the practice server."""

    server: str | None = SERVER_NAME
    flag: bool = True
    labels: bool = True

    def stamp(self, handler: RequestHandler, name: bool = True, flag: bool = True) -> None:
        """Put the identifying headers on `handler`'s answer.

        `name` and `flag` say which of the practice marks this kind of answer has always
        carried (a 403 names the server but has no flag; a refused learner is flagged but
        keeps tornado's name); without marks, tornado's own `Server` name goes too.
        """
        if self.server is None:
            handler.clear_header("Server")
        elif name:
            handler.set_header("Server", self.server)
        if flag and self.flag:
            handler.set_header(PRACTICE_HEADER, "1")


PRACTICE = Marks()
POSING = Marks(server=None, flag=False, labels=False)


class Unmarked(RequestHandler):
    """A handler whose answers never carried the practice marks (the teacher's pages, a
    redirect to another worker): unchanged in practice, and without tornado's name when
    posing."""

    def set_default_headers(self) -> None:
        of(self).stamp(self, name=False, flag=False)


def of(handler: RequestHandler) -> Marks:
    """The marks of the server `handler` answers for (its application's state), usable
    before `initialize()` runs, as `set_default_headers` is."""
    state = getattr(handler.application, "state", None)
    return getattr(state, "marks", PRACTICE)
