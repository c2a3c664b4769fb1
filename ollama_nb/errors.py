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

from .i18n import Messages

_ = Messages(
    {
        "not_installed": {
            "en": "The model '{name}' is not installed on the server: pull it first "
            "(ollama.pull('{name}')) or choose another model.",
            "zh": "服务器上没有安装模型 '{name}'：先拉取它（ollama.pull('{name}')），"
            "或者换一个模型。",
        },
        "this_model": {"en": "this model", "zh": "这个模型"},
        "cannot_do": {
            "en": "The model cannot do this ({text}): choose a model with that capability.",
            "zh": "这个模型做不到这一点（{text}）：请换一个具备该能力的模型。",
        },
        "busy": {
            "en": "The server is busy ({text}): wait a moment and try again.",
            "zh": "服务器正忙（{text}）：稍等片刻再试一次。",
        },
        "mid_stream": {
            "en": "The server reported an error in the middle of the reply ({text}): try again.",
            "zh": "服务器在回复途中报告了错误（{text}）：请再试一次。",
        },
        "server_error": {
            "en": "The server answered with an error ({text}, status {status}).",
            "zh": "服务器返回了错误（{text}，状态码 {status}）。",
        },
        "timeout": {
            "en": "The server took too long to answer (timeout): try again, or give the client a "
            "longer timeout.",
            "zh": "服务器太久没有回应（超时）：请再试一次，或者给客户端设置更长的 timeout。",
        },
        "cut": {
            "en": "The connection closed before the reply was complete: anything that arrived is "
            "kept; send the request again.",
            "zh": "回复还没传完连接就断开了：已经收到的部分会保留，请重新发送请求。",
        },
        "unreachable": {
            "en": "Cannot reach an Ollama server at {host}: start Ollama (ollama serve) or run "
            "ollama_nb.setup() to use the practice server.",
            "zh": "连接不上 {host} 的 Ollama 服务器：请启动 Ollama（ollama serve），"
            "或者运行 ollama_nb.setup() 改用练习服务器。",
        },
        "invalid_field": {
            "en": "The request is not valid: {field}: {msg}.",
            "zh": "请求无效：{field}：{msg}。",
        },
        "invalid": {"en": "The request is not valid: {error}.", "zh": "请求无效：{error}。"},
        "request": {"en": "request", "zh": "请求"},
        "invalid_value": {"en": "invalid value", "zh": "取值无效"},
        "other": {
            "en": "Something went wrong: {kind}: {error}.",
            "zh": "出了点问题：{kind}：{error}。",
        },
    }
)


def current_host() -> str:
    return os.environ.get("OLLAMA_HOST") or "http://127.0.0.1:11434"


def explain(exc: BaseException, model: str | None = None, host: str | None = None) -> str:
    """A one-sentence explanation of `exc` with the next step, in the learner's language."""
    host = host or current_host()
    if isinstance(exc, ollama.ResponseError):
        text = exc.error or ""
        if exc.status_code == 404 and "not found" in text:
            quoted = text.split("'")[1] if text.count("'") >= 2 else ""
            return _("not_installed", name=model or quoted or _("this_model"))
        if exc.status_code == 400 and "does not support" in text:
            return _("cannot_do", text=text)
        if exc.status_code in (429, 503):
            return _("busy", text=text)
        if exc.status_code == -1:
            return _("mid_stream", text=text)
        return _("server_error", text=text, status=exc.status_code)
    if isinstance(exc, httpx.TimeoutException | asyncio.TimeoutError | TimeoutError):
        return _("timeout")
    if isinstance(exc, httpx.RemoteProtocolError | httpx.ReadError):
        return _("cut")
    if isinstance(exc, ConnectionError | httpx.ConnectError):
        return _("unreachable", host=host)
    if isinstance(exc, pydantic.ValidationError):
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first.get("loc", ())) or _("request")
        return _("invalid_field", field=field, msg=first.get("msg") or _("invalid_value"))
    if isinstance(exc, ValueError):
        return _("invalid", error=exc)
    return _("other", kind=type(exc).__name__, error=exc)
