"""One plain sentence for each way a request to Ollama can fail.

Widgets show these in place of a traceback: what happened and what to do next. The text is
built from the exception the `ollama` library (or httpx beneath it) really raises.
"""

from __future__ import annotations

import asyncio
import os

import httpx
import ollama
import pydantic


def current_host() -> str:
    return os.environ.get("OLLAMA_HOST") or "http://127.0.0.1:11434"


def explain(exc: BaseException, model: str | None = None, host: str | None = None) -> str:
    """A one-sentence explanation of `exc` with the next step for the learner."""
    host = host or current_host()
    if isinstance(exc, ollama.ResponseError):
        text = exc.error or ""
        if exc.status_code == 404 and "not found" in text:
            quoted = text.split("'")[1] if text.count("'") >= 2 else ""
            name = model or quoted or "this model"
            return (
                f"The model '{name}' is not installed on the server: pull it first "
                f"(ollama.pull('{name}')) or choose another model."
            )
        if exc.status_code == 400 and "does not support" in text:
            return f"The model cannot do this ({text}): choose a model with that capability."
        if exc.status_code in (429, 503):
            return f"The server is busy ({text}): wait a moment and try again."
        if exc.status_code == -1:
            return f"The server reported an error in the middle of the reply ({text}): try again."
        return f"The server answered with an error ({text}, status {exc.status_code})."
    if isinstance(exc, httpx.TimeoutException | asyncio.TimeoutError | TimeoutError):
        return (
            "The server took too long to answer (timeout): try again, or give the client a "
            "longer timeout."
        )
    if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError):
        return (
            "The connection closed before the reply was complete: anything that arrived is "
            "kept; send the request again."
        )
    if isinstance(exc, ConnectionError | httpx.ConnectError):
        return (
            f"Cannot reach an Ollama server at {host}: start Ollama (ollama serve) or run "
            "ollama_nb.setup() to use the practice server."
        )
    if isinstance(exc, pydantic.ValidationError):
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first.get("loc", ())) or "request"
        return f"The request is not valid: {field}: {first.get('msg', 'invalid value')}."
    if isinstance(exc, ValueError):
        return f"The request is not valid: {exc}."
    return f"Something went wrong: {type(exc).__name__}: {exc}."
