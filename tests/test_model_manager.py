"""ModelManager against a real practice server, headless (widgets get a DummyComm).

Each test gets its own server so pulls, copies and deletes never leak between tests.
"""

from __future__ import annotations

import asyncio
import importlib
import time

import ollama
import pytest

from ollama_nb.server import PracticeServer
from ollama_nb.widgets.models import ModelManager, human_bytes


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture
def server():
    with PracticeServer(port=0, speed=0) as srv:
        yield srv


def slow_server(spec: str = "pull-speed=20MB/s") -> PracticeServer:
    """A server with slow pulls; the faults module is written in parallel, so wait for it."""
    deadline = time.monotonic() + 60
    while True:
        try:
            importlib.import_module("ollama_nb.server.faults")
            return PracticeServer(port=0, speed=0, faults=spec)
        except ImportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(1)


def local_names(url: str) -> set[str]:
    return {m.model for m in ollama.Client(host=url).list().models}


@pytest.fixture
async def manager(server):
    w = ModelManager(client=ollama.AsyncClient(host=server.url))
    await w.refresh()
    yield w
    w.close()


def test_human_bytes_matches_the_cli():
    assert human_bytes(2_019_393_189) == "2.0 GB"
    assert human_bytes(274_302_450) == "274 MB"
    assert human_bytes(4_920_753_328) == "4.9 GB"
    assert human_bytes(13) == "13 B"


def test_repr_is_stable_and_builds_without_a_loop():
    w = ModelManager()
    assert repr(w) == "ModelManager()"
    assert w._repr_mimebundle_()["text/plain"] == "ModelManager()"
    assert "ollama-models" in w._dom_classes
    w.close()


@pytest.mark.anyio
async def test_table_lists_local_models_and_sorts(manager):
    names = [m["name"] for m in manager.models]
    assert set(names) == {"llama3.1:latest", "nomic-embed-text:latest"}
    table = manager.table.value
    assert "class='models-table'" in table
    assert '<tr data-model="llama3.1:latest" data-action="select"' in table
    assert "4.9 GB" in table and "Q4_K_M" in table and "nomic-bert" in table
    assert "5.2 GB on disk" in manager.total_label.value
    manager.sort("size", descending=False)
    assert [m["name"] for m in manager.sorted_models()][0] == "nomic-embed-text:latest"
    assert table.index("llama3.1") < table.index("nomic")  # default: by name
    assert manager.table.value.index("nomic") < manager.table.value.index("llama3.1")
    manager.sort("parameters", descending=True)
    assert manager.sorted_models()[0]["name"] == "llama3.1:latest"
    with pytest.raises(ValueError):
        manager.sort("colour")


@pytest.mark.anyio
async def test_show_details_and_modelfile(manager):
    details = await manager.show("llama3.1")
    assert details["name"] == "llama3.1:latest"
    assert "tools" in details["capabilities"]
    assert details["license_head"].startswith("LLAMA 3.1 COMMUNITY LICENSE")
    assert "stop" in details["parameters"]
    assert "Modelfile generated" in details["modelfile"]
    assert "models-details-body" in manager.details_view.value


@pytest.mark.anyio
async def test_pull_reaches_100_percent_and_updates_table(manager, server):
    assert await manager.pull("gemma3:270m") is True
    assert manager.progress.value == 100
    completed, total = manager.pull_totals()
    assert completed == total > 290_000_000
    assert len(manager.layer_bars) >= 2  # weights plus the small template/license layers
    assert all(bar.value == 100 for bar in manager.layer_bars.values())
    assert "gemma3:270m" in {m["name"] for m in manager.models}
    assert '<tr data-model="gemma3:270m" data-action="select"' in manager.table.value
    assert manager.status == "Pulled gemma3:270m."
    assert "gemma3:270m" in local_names(server.url)


@pytest.mark.anyio
async def test_recommended_button_fills_the_pull_box(manager):
    button = manager.recommended.children[0]
    button.click()
    assert manager.pull_name.value and manager.pull_name.value in button.description


@pytest.mark.anyio
async def test_cancel_stops_a_slow_pull_and_keeps_nothing():
    with slow_server("pull-speed=20MB/s") as srv:  # all-minilm: 46 MB, about 2.3 s
        w = ModelManager(client=ollama.AsyncClient(host=srv.url))
        task = asyncio.ensure_future(w.pull("all-minilm"))
        for _ in range(100):
            await asyncio.sleep(0.05)
            if w.pull_totals()[0] > 0:
                break
        assert 0 < w.pull_totals()[0] < w.pull_totals()[1], "the pull should be under way"
        assert w.cancel_button.disabled is False
        assert w.cancel_pull() is True
        assert await asyncio.wait_for(task, 5) is False
        assert "Cancelled" in w.status
        assert w.cancel_button.disabled is True and w.pull_button.disabled is False
        await asyncio.sleep(3)  # longer than the whole pull would have taken
        assert not any(n.startswith("all-minilm") for n in local_names(srv.url))
        w.close()


@pytest.mark.anyio
async def test_pull_shows_rate_and_eta_when_slow():
    with slow_server("pull-speed=200MB/s") as srv:  # gemma3:270m: 292 MB, about 1.5 s
        w = ModelManager(client=ollama.AsyncClient(host=srv.url))
        task = asyncio.ensure_future(w.pull("gemma3:270m"))
        seen = ""
        while not task.done():
            await asyncio.sleep(0.1)
            if "ETA" in w.pull_figures.value:
                seen = w.pull_figures.value
        assert await task is True
        assert "MB/s" in seen and "ETA" in seen
        w.close()


@pytest.mark.anyio
async def test_unknown_pull_name_gives_one_sentence(manager):
    assert await manager.pull("does-not-exist") is False
    assert "pull model manifest: file does not exist" in manager.status
    assert manager.last_error == manager.status
    assert manager.status.count(". ") == 0 and manager.status.endswith(".")
    assert "does-not-exist" in manager.status_line.value


@pytest.mark.anyio
async def test_delete_needs_confirmation(manager, server):
    await manager.pull("llama3.2")
    question = manager.request_delete("llama3.2")
    assert question == "Delete llama3.2:latest and free 2.0 GB?"
    assert manager.confirm_box.layout.display == "flex"
    assert question in manager.confirm_text.value
    assert "llama3.2:latest" in local_names(server.url)  # nothing deleted yet
    manager.cancel_delete()
    assert manager.confirm_box.layout.display == "none"
    assert await manager.confirm_delete() is False  # nothing pending any more
    assert "llama3.2:latest" in local_names(server.url)

    manager.request_delete("llama3.2:latest")
    manager.confirm_button.click()  # the button runs confirm_delete as a task
    for _ in range(100):
        await asyncio.sleep(0.02)
        if "llama3.2:latest" not in local_names(server.url):
            break
    assert "llama3.2:latest" not in local_names(server.url)
    await asyncio.sleep(0.1)
    assert "llama3.2:latest" not in {m["name"] for m in manager.models}
    assert manager.status.startswith("Deleted llama3.2:latest")


@pytest.mark.anyio
async def test_copy_and_create(manager, server):
    assert await manager.copy("llama3.1", "my-llama") is True
    assert "my-llama:latest" in {m["name"] for m in manager.models}
    # a copy shares its layers, so deleting it frees nothing
    assert "no space is freed" in manager.request_delete("my-llama")
    manager.cancel_delete()

    text = 'FROM llama3.1\nSYSTEM """You are Mario from Super Mario Bros."""\n'
    assert await manager.create("mario", text) is True
    assert "mario:latest" in {m["name"] for m in manager.models}
    assert "success" in manager.create_log.value
    details = await manager.show("mario")
    assert details["system"] == "You are Mario from Super Mario Bros."
    assert "mario:latest" in local_names(server.url)

    assert await manager.create("broken", "SYSTEM no from line") is False
    assert "FROM" in manager.status


@pytest.mark.anyio
async def test_running_countdown_and_unload(manager, server):
    sync = ollama.Client(host=server.url)
    sync.generate(model="llama3.1", prompt="hi", keep_alive="5m")
    running = await manager.refresh_running()
    assert [r["name"] for r in running] == ["llama3.1:latest"]
    assert "class='models-running'" in manager.running_view.value
    assert "100% CPU" in manager.running_view.value
    first = manager.seconds_left("llama3.1:latest")
    assert 250 < first <= 300
    assert [b.description for b in manager.unload_box.children] == ["Unload llama3.1:latest"]

    assert manager.start_ticker() is True
    before = manager.running_view.value
    await asyncio.sleep(2.2)
    assert manager.seconds_left("llama3.1:latest") < first - 1.5
    assert manager.running_view.value != before  # the countdown text moved
    manager.stop_ticker()

    assert await manager.unload("llama3.1") is True
    assert manager.running == []
    assert ollama.Client(host=server.url).ps().models == []
    assert "No model is loaded" in manager.running_view.value


@pytest.mark.anyio
async def test_close_stops_the_ticker(manager):
    assert manager.start_ticker() is True
    ticker = manager._ticker
    manager.close()
    await asyncio.sleep(0.05)
    assert ticker.done()


@pytest.mark.anyio
async def test_unreachable_server_is_one_sentence():
    w = ModelManager(client=ollama.AsyncClient(host="http://127.0.0.1:9"))
    assert await w.refresh() == []
    assert w.status.startswith("Cannot reach an Ollama server")
    w.close()


@pytest.mark.anyio
async def test_only_the_newest_panel_ticks(server):
    first = ModelManager(client=ollama.AsyncClient(host=server.url))
    second = ModelManager(client=ollama.AsyncClient(host=server.url))
    assert first.start_ticker() is True
    ticker = first._ticker
    assert second.start_ticker() is True
    await asyncio.sleep(0.05)
    assert ticker.done() and not second._ticker.done()
    first.close()
    second.close()


def test_modelfile_fallback_reads_from_and_system():
    from ollama_nb.widgets.models import _fallback_create_kwargs

    text = 'from llama3.1\nsystem """You are Mario.\nSay hi."""\n'
    expected = {"from_": "llama3.1", "system": "You are Mario.\nSay hi."}
    assert _fallback_create_kwargs(text) == expected
    assert _fallback_create_kwargs("FROM qwen3:0.6b\nSYSTEM Be brief.") == {
        "from_": "qwen3:0.6b",
        "system": "Be brief.",
    }
    with pytest.raises(ValueError, match="FROM"):
        _fallback_create_kwargs("SYSTEM hi")


@pytest.mark.anyio
async def test_create_from_an_unknown_base_is_one_sentence(manager):
    assert await manager.create("x", "FROM no-such-base\n") is False
    assert manager.last_error == manager.status
    # Ollama pulls a missing base first, so the error is the pull's: no such model
    assert manager.status.startswith("There is no model named 'no-such-base' in the registry")
    assert "failed" in manager.create_log.value


@pytest.mark.anyio
async def test_selecting_a_model_shows_it_once(manager):
    shown = []
    original = manager.show

    async def spy(name):
        shown.append(name)
        return await original(name)

    manager.show = spy
    manager.model_select.value = "llama3.1:latest"
    await asyncio.sleep(0.2)
    assert manager.details["name"] == "llama3.1:latest"
    await manager.pull("all-minilm")  # new options must not show other models on the way
    await asyncio.sleep(0.1)
    assert shown == ["llama3.1:latest"]
    assert manager.model_select.value == "llama3.1:latest"


# -- the table is the control ---------------------------------------------------------------------
def click(manager, action: str, value: str = "") -> None:
    """What the browser's Bridge sends for a click on a data-action element."""
    manager.bridge._on_message(manager.bridge, {"action": action, "value": value}, [])


@pytest.mark.anyio
async def test_a_header_click_sorts_and_a_second_click_reverses(manager):
    names = lambda: [m["name"] for m in manager.sorted_models()]  # noqa: E731
    assert names()[0] == "llama3.1:latest"  # by name
    click(manager, "sort", "size")
    assert names()[0] == "nomic-embed-text:latest"  # the smaller one first
    assert 'data-value="size" title="Sort by size">Size ▲</th>' in manager.table.value
    click(manager, "sort", "size")
    assert names()[0] == "llama3.1:latest" and "Size ▼" in manager.table.value
    assert manager.table.value.index("llama3.1") < manager.table.value.index("nomic")
    click(manager, "sort", "no-such-column")  # ignored
    assert manager.sort_column.value == "size"


@pytest.mark.anyio
async def test_a_row_click_shows_its_details_and_marks_the_row(manager):
    click(manager, "select", "llama3.1:latest")
    for _ in range(100):
        await asyncio.sleep(0.02)
        if manager.details:
            break
    assert manager.details["name"] == "llama3.1:latest"
    assert "models-details-body" in manager.details_view.value
    assert "data-value=\"llama3.1:latest\" class='selected'" in manager.table.value


@pytest.mark.anyio
async def test_row_delete_asks_next_to_the_table_and_removes_the_row(manager, server):
    click(manager, "delete", "nomic-embed-text:latest")
    assert manager.confirm_box.layout.display == "flex"
    assert "Delete nomic-embed-text:latest and free" in manager.confirm_text.value
    assert "nomic-embed-text:latest" in local_names(server.url)
    assert manager.status_line is manager._status_views["table"]
    assert await manager.confirm_delete() is True
    assert "nomic-embed-text:latest" not in manager.table.value
    assert "Deleted nomic-embed-text:latest" in manager._status_views["table"].value
    assert manager._status_views["pull"].value == ""


@pytest.mark.anyio
async def test_row_copy_opens_the_copy_box_with_a_free_name(manager):
    click(manager, "copy", "llama3.1:latest")
    assert manager.copy_box.layout.display == "flex"
    assert manager.copy_name.value == "llama3.1-copy"
    manager.copy_button.click()
    for _ in range(100):
        await asyncio.sleep(0.02)
        if "llama3.1-copy:latest" in {m["name"] for m in manager.models}:
            break
    assert "llama3.1-copy:latest" in {m["name"] for m in manager.models}
    assert manager.copy_box.layout.display == "none"
    assert manager.start_copy("llama3.1:latest") == "llama3.1-copy2"


@pytest.mark.anyio
async def test_refresh_clears_an_old_status(manager):
    manager.request_delete("llama3.1")
    manager.cancel_delete()
    assert "Kept llama3.1:latest" in manager.status_line.value
    manager.refresh_button.click()
    await asyncio.sleep(0.3)
    assert manager.status_line.value == ""


@pytest.mark.anyio
async def test_pull_status_sits_by_the_pull_and_cancel_leaves_no_pulling_line():
    with slow_server("pull-speed=20MB/s") as srv:
        w = ModelManager(client=ollama.AsyncClient(host=srv.url))
        task = asyncio.ensure_future(w.pull("all-minilm"))
        for _ in range(100):
            await asyncio.sleep(0.05)
            if w.pull_totals()[0] > 0:
                break
        assert "Pulling all-minilm" in w._status_views["pull"].value
        w.cancel_pull()
        assert await asyncio.wait_for(task, 5) is False
        figures = w.pull_figures.value
        assert figures.startswith("<b>Cancelled</b> at ") and "pulling" not in figures.lower()
        assert "ETA" not in figures
        assert "Cancelled the pull" in w._status_views["pull"].value
        assert w._status_views["table"].value == ""
        w.close()


@pytest.mark.anyio
async def test_eta_comes_from_a_smoothed_rate_and_never_reads_zero_with_much_left():
    with slow_server("pull-speed=100MB/s") as srv:  # gemma3:270m: 292 MB, about 3 s
        w = ModelManager(client=ollama.AsyncClient(host=srv.url))
        task = asyncio.ensure_future(w.pull("gemma3:270m"))
        seen = []
        while not task.done():
            await asyncio.sleep(0.1)
            done, total = w.pull_totals()
            if "ETA" in w.pull_figures.value and total:
                seen.append((done / total, w.pull_figures.value))
        assert await task is True
        assert seen
        for share, figures in seen:
            if share < 0.8:
                assert "ETA 0:00" not in figures, figures
        assert "layers" in seen[0][1] or "pulling" not in seen[0][1]  # no digest on show
        w.close()


@pytest.mark.anyio
async def test_a_shown_panel_follows_changes_made_elsewhere(manager, server):
    manager.bridge._on_message(manager.bridge, {"action": "_shown", "value": ""}, [])
    assert manager.bridge.views == 1 and manager._ticker is not None
    ollama.Client(host=server.url).delete("nomic-embed-text")  # a cell deletes a model
    for _ in range(40):
        await asyncio.sleep(0.1)
        if "nomic-embed-text" not in manager.table.value:
            break
    assert "nomic-embed-text" not in manager.table.value
    assert "1 model," in manager.total_label.value
    ollama.Client(host=server.url).generate(model="llama3.1", prompt="hi", keep_alive="5m")
    for _ in range(40):
        await asyncio.sleep(0.1)
        if "models-row-unload" in manager.table.value:
            break
    assert "data-expires=" in manager.running_view.value  # the browser ticks it each second
    assert 'data-action="unload" data-value="llama3.1:latest"' in manager.table.value
    manager.bridge._on_message(manager.bridge, {"action": "_hidden", "value": ""}, [])
    assert manager.bridge.views == 0


@pytest.fixture
def chinese():
    from ollama_nb import i18n

    i18n.set_lang("zh")
    try:
        yield
    finally:
        i18n.set_lang(None)


def _headings(w: ModelManager) -> list[str]:
    return [c.value for c in w.children if "<h4" in str(getattr(c, "value", ""))]


@pytest.mark.anyio
async def test_labels_follow_the_learners_language(server, chinese):
    w = ModelManager(client=ollama.AsyncClient(host=server.url))
    try:
        await w.refresh()
        await w.refresh_running()
        headings = " ".join(_headings(w))
        assert "本地模型" in headings and "拉取模型" in headings and "运行中的模型" in headings
        assert "Local models" not in headings
        assert w.refresh_button.description == "刷新"
        assert w.pull_button.description == "拉取"
        assert w.sort_column.description == "排序"
        assert ("名称", "name") in w.sort_column.options
        assert ">名称 ▲</th>" in w.table.value and ">复制</button>" in w.table.value
        assert "2 个模型，占用磁盘 5.2 GB" == w.total_label.value
        assert "当前没有已加载的模型。" in w.running_view.value
        w.request_delete("llama3.1")
        assert w.status.startswith("删除 llama3.1:latest")
        w.cancel_delete()
        assert w.status == "已保留 llama3.1:latest。"
        assert repr(w) == "ModelManager()"
    finally:
        w.close()


@pytest.mark.anyio
async def test_labels_stay_english_by_default(manager):
    headings = " ".join(_headings(manager))
    assert "Local models" in headings and "Pull a model" in headings
    assert "Running models" in headings and "Create from a Modelfile" in headings
    assert manager.refresh_button.description == "Refresh"
    assert manager.sort_column.description == "Sort by"
    assert ("Name", "name") in manager.sort_column.options
    assert ">Name ▲</th>" in manager.table.value and ">Copy</button>" in manager.table.value
    assert manager.total_label.value == "2 models, 5.2 GB on disk"
    await manager.refresh_running()
    assert "No model is loaded." in manager.running_view.value
    assert manager.request_delete("llama3.1") == "Delete llama3.1:latest and free 4.9 GB?"
