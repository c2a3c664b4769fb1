"""errors.explain: one plain sentence for every failure a learner meets."""

from __future__ import annotations

import httpx
import ollama
import pytest

from ollama_nb.errors import explain
from ollama_nb.server import PracticeServer


def _raised(call) -> BaseException:
    with pytest.raises(Exception) as info:
        call()
    return info.value


def _one_sentence(text: str) -> None:
    assert "\n" not in text and text.endswith((".", "。")) and "Traceback" not in text


@pytest.fixture(params=["en", "zh"])
def lang(request):
    from ollama_nb import i18n

    i18n.set_lang(request.param)
    yield request.param
    i18n.set_lang(None)


def test_each_failure_gets_one_sentence(client, server, lang):
    cases = {
        "missing model": _raised(lambda: client.chat(model="nope", messages=[])),
        "dead server": _raised(lambda: ollama.Client(host="http://127.0.0.1:9").list()),
        "empty model": _raised(lambda: client.chat(model="", messages=[])),
    }
    with PracticeServer(faults="cut=3@chat;error=503@generate") as faulty:
        c = ollama.Client(host=faulty.url)
        cases["cut"] = _raised(
            lambda: list(
                c.chat(model="llama3.1", stream=True, messages=[{"role": "user", "content": "hi"}])
            )
        )
        cases["busy"] = _raised(lambda: c.generate(model="llama3.1", prompt="hi"))
    with PracticeServer(faults="stall=1@chat") as stalled:
        c = ollama.Client(host=stalled.url, timeout=0.5)
        cases["timeout"] = _raised(
            lambda: list(
                c.chat(model="llama3.1", stream=True, messages=[{"role": "user", "content": "x"}])
            )
        )
    texts = {name: explain(exc) for name, exc in cases.items()}
    for text in texts.values():
        _one_sentence(text)
    if lang == "zh":
        assert "'nope'" in texts["missing model"] and "没有安装模型" in texts["missing model"]
        assert "连接不上" in texts["dead server"]
        assert texts["empty model"].startswith("请求无效：model")
        assert "连接就断开了" in texts["cut"]
        assert "服务器正忙" in texts["busy"]
        assert "超时" in texts["timeout"]
        return
    assert "'nope' is not installed" in texts["missing model"]
    assert "Cannot reach an Ollama server" in texts["dead server"]
    assert texts["empty model"].startswith("The request is not valid: model")
    assert "closed before the reply was complete" in texts["cut"]
    assert "busy" in texts["busy"]
    assert "too long" in texts["timeout"]
    assert isinstance(cases["timeout"], httpx.TimeoutException)
