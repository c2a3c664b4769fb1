"""Ask before downloading: a pull on a real Ollama needs the learner's go-ahead.

A notebook run top to bottom must never fetch gigabytes nobody asked for. `confirm_pull(name)`
answers whether the cell may pull `name` itself: yes on the practice server (which downloads
nothing real); on a real Ollama no, and it says why: the model is already installed, or it
shows a button naming the model and its size (with a progress bar) and prints what to do. In
a run nobody watches, nobody clicks, and nothing is downloaded.
"""

from __future__ import annotations

import threading

from .i18n import Messages

_ = Messages(
    {
        "ask": {
            "en": "{name} ({size}) is not installed, and this notebook does not download "
            "models unasked: click the button to download it, or run `ollama pull {name}`, "
            "then run this cell again.",
            "zh": "{name}（{size}）尚未安装，本笔记本不会擅自下载模型：点击按钮下载，"
            "或运行 `ollama pull {name}`，然后重新运行这个单元格。",
        },
        "button": {"en": "Download {name} ({size})", "zh": "下载 {name}（{size}）"},
        "done": {
            "en": "{name} is installed: run the cell again.",
            "zh": "{name} 已安装：请重新运行这个单元格。",
        },
        "failed": {"en": "Download failed: {error}", "zh": "下载失败：{error}"},
        "unknown": {"en": "size unknown", "zh": "大小未知"},
        "have": {
            "en": "{name} is already installed: nothing to download.",
            "zh": "{name} 已经安装：无需下载。",
        },
    }
)


def download_size(name: str) -> int | None:
    """Bytes to download for `name`, from the catalogue of well-known models (None: unknown)."""
    from .roles import SUGGESTED, base_name
    from .server.catalog import CATALOG

    wanted = base_name(name)
    for full, model in CATALOG.items():
        if base_name(full) == wanted:
            return model.size
    return next((size for pull, size in SUGGESTED.values() if pull == wanted), None)


def is_installed(name: str, client=None) -> bool:
    import ollama

    from .roles import base_name

    client = client or ollama.Client()
    return base_name(name) in {base_name(m.model or "") for m in client.list().models}


def confirm_pull(name: str, client=None) -> bool:
    """True when the cell may pull `name` now (the practice server); else says why not."""
    import ollama_nb

    from .roles import human_size

    if ollama_nb.PRACTICE is not False:
        return True
    if is_installed(name, client):
        print(_("have", name=name))
        return False
    size = download_size(name)
    shown = human_size(size) if size else _("unknown")
    _offer(name, shown, client)
    print(_("ask", name=name, size=shown))
    return False


def _offer(name: str, shown: str, client) -> None:
    """A Download button with a progress bar; pulls on a thread so the notebook stays live."""
    try:
        import ipywidgets as widgets
        from IPython.display import display
    except ImportError:  # pragma: no cover - the notebooks always have ipywidgets
        return
    button = widgets.Button(description=_("button", name=name, size=shown), icon="download")
    button.layout.width = "auto"
    bar = widgets.FloatProgress(value=0, min=0, max=1, layout={"visibility": "hidden"})
    note = widgets.Label()

    def pull() -> None:
        import ollama

        try:
            for progress in (client or ollama.Client()).pull(name, stream=True):
                if progress.total:
                    bar.value = (progress.completed or 0) / progress.total
            note.value = _("done", name=name)
        except Exception as exc:  # shown in place: the learner can try again
            note.value = _("failed", error=exc)
            button.disabled = False

    def clicked(_button) -> None:
        button.disabled = True
        bar.layout.visibility = "visible"
        threading.Thread(target=pull, daemon=True).start()

    button.on_click(clicked)
    display(widgets.HBox([button, bar, note]))
