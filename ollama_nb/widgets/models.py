"""ModelManager: the local models, pulls, copies, creates, deletes and running models in one panel.

Every network call runs as an asyncio task on the kernel's running loop with
`ollama.AsyncClient`, so clicks (Cancel above all) are handled while a pull streams; a cell that
waited on a synchronous pull would block every button until the download ended. The same
operations are async methods (`await w.pull("qwen3:0.6b")`) for notebook code and tests.

The panel's text/plain repr is a fixed string: nbval compares it, and a repr built from the
children would carry sizes, dates and countdowns that change from run to run.
"""

from __future__ import annotations

import asyncio
import html
import math
import re
import time
import weakref
from collections.abc import Awaitable, Callable, Coroutine
from datetime import datetime, timezone
from typing import Any

import ipywidgets as widgets
import ollama

from ollama_nb.errors import current_host, explain

from ..i18n import Messages
from .bridge import Bridge

__all__ = ["ModelManager", "human_bytes"]

_ = Messages(
    {
        "col_name": {"en": "Name", "zh": "名称"},
        "col_size": {"en": "Size", "zh": "大小"},
        "col_family": {"en": "Family", "zh": "系列"},
        "col_parameters": {"en": "Parameters", "zh": "参数量"},
        "col_quantization": {"en": "Quantization", "zh": "量化"},
        "col_modified": {"en": "Modified", "zh": "修改时间"},
        "col_vram": {"en": "VRAM", "zh": "显存"},
        "col_processor": {"en": "Processor", "zh": "处理器"},
        "col_until": {"en": "Until", "zh": "剩余时间"},
        "sort_by": {"en": "Sort by", "zh": "排序"},
        "sort_title": {"en": "Sort by {label}", "zh": "按{label}排序"},
        "descending": {"en": "descending", "zh": "降序"},
        "refresh": {"en": "Refresh", "zh": "刷新"},
        "model": {"en": "Model", "zh": "模型"},
        "copy_placeholder": {"en": "new name, e.g. my-llama", "zh": "新名称，例如 my-llama"},
        "copy_to": {"en": "Copy to", "zh": "复制为"},
        "copy": {"en": "Copy", "zh": "复制"},
        "copy_name": {"en": "Copy {name}", "zh": "复制 {name}"},
        "unload": {"en": "Unload", "zh": "卸载"},
        "unload_name": {"en": "Unload {name}", "zh": "卸载 {name}"},
        "delete": {"en": "Delete", "zh": "删除"},
        "delete_name": {"en": "Delete {name}", "zh": "删除 {name}"},
        "confirm": {"en": "Confirm", "zh": "确认"},
        "cancel": {"en": "Cancel", "zh": "取消"},
        "pull_placeholder": {
            "en": "model to pull, e.g. qwen3:0.6b",
            "zh": "要拉取的模型，例如 qwen3:0.6b",
        },
        "pull": {"en": "Pull", "zh": "拉取"},
        "overall": {"en": "Overall", "zh": "总进度"},
        "create_placeholder": {"en": "name of the new model", "zh": "新模型的名称"},
        "create": {"en": "Create", "zh": "创建"},
        "layers": {"en": "Layers (details)", "zh": "各层（详情）"},
        "h_local": {"en": "Local models", "zh": "本地模型"},
        "h_pull": {"en": "Pull a model", "zh": "拉取模型"},
        "small_models": {
            "en": "Small models to try (click to fill the box):",
            "zh": "可以试试这些小模型（点击即可填入输入框）：",
        },
        "h_create": {"en": "Create from a Modelfile", "zh": "用 Modelfile 创建模型"},
        "h_running": {"en": "Running models", "zh": "运行中的模型"},
        "no_loop": {
            "en": "No running event loop: call these methods with await in a notebook.",
            "zh": "没有正在运行的事件循环：请在笔记本中用 await 调用这些方法。",
        },
        "no_such_model": {
            "en": "There is no model named '{model}' in the registry ({text}): check the name "
            "on ollama.com/library, or click one of the small models below.",
            "zh": "模型仓库中没有名为“{model}”的模型（{text}）："
            "请在 ollama.com/library 上核对名称，或点击下方的某个小模型。",
        },
        "no_local_models": {"en": "No local models yet.", "zh": "还没有本地模型。"},
        "total_one": {
            "en": "{count} model, {size} on disk",
            "zh": "{count} 个模型，占用磁盘 {size}",
        },
        "total_many": {
            "en": "{count} models, {size} on disk",
            "zh": "{count} 个模型，占用磁盘 {size}",
        },
        "copy_prompt": {
            "en": "Type a name for the copy of {name}, then press Copy.",
            "zh": "请为 {name} 的副本输入名称，然后点击“复制”。",
        },
        "copy_needs": {
            "en": "Choose a model and type a new name to copy it to.",
            "zh": "请先选择一个模型，并输入要复制成的新名称。",
        },
        "copied": {
            "en": "Copied {source} to {destination}.",
            "zh": "已将 {source} 复制为 {destination}。",
        },
        "create_needs_name": {
            "en": "Type a name for the new model first.",
            "zh": "请先输入新模型的名称。",
        },
        "bad_modelfile": {
            "en": "The Modelfile cannot be used: {error}.",
            "zh": "无法使用这个 Modelfile：{error}。",
        },
        "no_from": {
            "en": "the Modelfile has no FROM line naming the model it starts from",
            "zh": "Modelfile 中没有指明基础模型的 FROM 行",
        },
        "creating": {"en": "creating {name} from {base}", "zh": "正在以 {base} 为基础创建 {name}"},
        "create_failed": {"en": "failed", "zh": "失败"},
        "created": {"en": "Created {name}.", "zh": "已创建 {name}。"},
        "delete_needs": {"en": "Choose a model to delete first.", "zh": "请先选择要删除的模型。"},
        "no_local": {
            "en": "There is no local model named '{name}' to delete.",
            "zh": "本地没有名为“{name}”的模型可删除。",
        },
        "delete_question": {
            "en": "Delete {name} and free {size}?",
            "zh": "删除 {name} 并释放 {size} 空间吗？",
        },
        "delete_shared": {
            "en": "Delete {name}? Its layers are shared with another name, so no space is freed.",
            "zh": "删除 {name} 吗？它的各层与另一个名称共用，所以不会释放空间。",
        },
        "kept": {"en": "Kept {name}.", "zh": "已保留 {name}。"},
        "nothing_to_confirm": {
            "en": "Nothing to confirm: press Delete first.",
            "zh": "没有需要确认的操作：请先点击“删除”。",
        },
        "deleted": {
            "en": "Deleted {name}, freeing {size}.",
            "zh": "已删除 {name}，释放了 {size}。",
        },
        "pull_needs_name": {
            "en": "Type the name of a model to pull, or click a small model below.",
            "zh": "请输入要拉取的模型名称，或点击下方的某个小模型。",
        },
        "pull_busy": {
            "en": "A pull is already running: wait for it or press Cancel.",
            "zh": "已有一个拉取正在进行：请等它完成，或点击“取消”。",
        },
        "pulling": {"en": "Pulling {name}…", "zh": "正在拉取 {name}…"},
        "pulled": {"en": "Pulled {name}.", "zh": "已拉取 {name}。"},
        "pull_cancelled": {
            "en": "Cancelled the pull of {name}; the server keeps nothing of it.",
            "zh": "已取消拉取 {name}；服务器不会保留任何已下载的部分。",
        },
        "cancelled": {"en": "Cancelled", "zh": "已取消"},
        "failed": {"en": "Failed", "zh": "失败"},
        "end_share": {"en": " at {percent}%", "zh": "，停在 {percent}%"},
        "end_sizes": {"en": " ({done} of {total})", "zh": "（{done} / {total}）"},
        "eta": {"en": "ETA {time}", "zh": "预计剩余 {time}"},
        "forever": {"en": "Forever", "zh": "一直保留"},
        "unloading": {"en": "unloading", "zh": "正在卸载"},
        "none_loaded": {"en": "No model is loaded.", "zh": "当前没有已加载的模型。"},
        "unloaded": {"en": "Unloaded {name}.", "zh": "已卸载 {name}。"},
        "capabilities": {"en": "capabilities", "zh": "能力"},
        "unknown": {"en": "unknown", "zh": "未知"},
        "b_parameters": {"en": "Parameters", "zh": "参数"},
        "b_system": {"en": "System", "zh": "系统提示词"},
        "b_template": {"en": "Template", "zh": "模板"},
        "b_license": {"en": "License", "zh": "许可证"},
    }
)

_CELL = " style='padding: 2px 12px 2px 0; text-align: left'"  # readable columns

COLUMNS = {  # sort key -> table heading (English; shown through _(f"col_{key}"))
    "name": "Name",
    "size": "Size",
    "family": "Family",
    "parameters": "Parameters",
    "quantization": "Quantization",
    "modified": "Modified",
}
RENDER_INTERVAL = 0.1  # seconds between progress redraws: at most ten comm messages a second
RATE_SMOOTHING = 0.3  # weight of the newest speed sample in the smoothed download rate
SECTIONS = ("table", "pull", "create")  # each shows its own status line, next to its buttons
_CSS = """<style>
.ollama-models .models-table { border-collapse: collapse; }
.ollama-models .models-table th { cursor: pointer; user-select: none; white-space: nowrap;
  border-bottom: 1px solid var(--jp-border-color1, #ccc); }
.ollama-models .models-table th:hover { background: var(--jp-layout-color2, #eee); }
.ollama-models .models-table tbody tr { cursor: pointer; }
.ollama-models .models-table tbody tr:hover { background: var(--jp-layout-color2, #f3f3f3); }
.ollama-models .models-table tr.selected { background: var(--jp-brand-color3, #e3f2fd); }
.ollama-models .models-table td.models-actions { white-space: nowrap; }
.ollama-models .models-row-button { font-size: 90%; padding: 0 8px; margin-right: 4px;
  cursor: pointer; border: 1px solid var(--jp-border-color1, #ccc); border-radius: 3px;
  background: var(--jp-layout-color1, #fff); color: var(--jp-ui-font-color1, #333); }
.ollama-models .models-row-button.danger { color: var(--jp-error-color1, #b00020); }
.ollama-models .models-status { min-height: 1.4em; }
.ollama-models .jupyter-button:disabled { opacity: 0.4; cursor: not-allowed; }
</style>"""
PS_POLL_TICKS = 10  # the countdown ticks each second; ps() is asked again every this many ticks
FOREVER_SECONDS = 10 * 365 * 24 * 3600  # keep_alive=-1 gives an expiry centuries away


def human_bytes(n: float) -> str:
    """Bytes in decimal units, as the ollama CLI prints them ("2.0 GB", "274 MB")."""
    value, unit = float(n), "B"
    for next_unit in ("KB", "MB", "GB", "TB"):
        if abs(value) < 1000:
            break
        value, unit = value / 1000, next_unit
    if unit == "B" or value >= 10 or value == int(value):
        return f"{int(value)} {unit}"
    return f"{value:.1f} {unit}"


def _duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


def _parameter_count(text: str) -> float:
    """ "8.0B" -> 8e9, "751.63M" -> 7.5163e8, for sorting by parameter size."""
    match = re.fullmatch(r"\s*([0-9.]+)\s*([KMBT]?)\s*", text or "", re.IGNORECASE)
    if not match:
        return 0.0
    scale = {"": 1, "K": 1e3, "M": 1e6, "B": 1e9, "T": 1e12}[match.group(2).upper()]
    return float(match.group(1)) * scale


def _iso_utc(value: Any) -> str:
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc)
        return value.strftime("%Y-%m-%d %H:%M")
    return str(value or "")


def _timestamp(value: Any) -> float:
    return value.timestamp() if isinstance(value, datetime) else 0.0


def _system_from_modelfile(text: str) -> str:
    """SYSTEM of a `show` Modelfile: the 0.6.3 ShowResponse type has no `system` field."""
    match = re.search(r'^SYSTEM\s+"""(.*?)"""', text or "", re.MULTILINE | re.DOTALL)
    if match:
        return match.group(1)
    match = re.search(r"^SYSTEM\s+(.*)$", text or "", re.MULTILINE)
    return match.group(1).strip().strip('"') if match else ""


def _fallback_create_kwargs(text: str) -> dict[str, Any]:
    """FROM and SYSTEM only, for when ollama_nb.modelfile is not available."""
    kwargs: dict[str, Any] = {}
    match = re.search(r"^\s*FROM\s+(\S+)", text, re.MULTILINE | re.IGNORECASE)
    if match:
        kwargs["from_"] = match.group(1)
    system = _system_from_modelfile(re.sub(r"(?im)^\s*system\b", "SYSTEM", text))
    if system:
        kwargs["system"] = system
    if "from_" not in kwargs:
        raise ValueError(_("no_from"))
    return kwargs


def _create_kwargs(text: str) -> dict[str, Any]:
    try:
        from ollama_nb.modelfile import parse
    except ImportError:
        return _fallback_create_kwargs(text)
    return parse(text)


def _host_of(client: Any) -> str | None:
    inner = getattr(client, "_client", None)
    base = getattr(inner, "base_url", None)
    return str(base).rstrip("/") if base else None


def _button(description: str, css: str, **kw: Any) -> widgets.Button:
    button = widgets.Button(description=description, **kw)
    button.add_class(css)
    return button


class ModelManager(widgets.VBox):
    """A panel for the models of one Ollama server (or the practice server).

    Shows the local models as a sortable table with their total disk use, the details and
    Modelfile of the selected one, Pull with per-layer progress and Cancel, Copy, Create from a
    Modelfile, Delete behind a confirmation, recommended small models, and the running models
    with a live expiry countdown and Unload. Errors appear in the status line as one sentence.

    Drive it from code with `await w.refresh()`, `await w.pull(name)`, `w.cancel_pull()`,
    `await w.copy(src, dst)`, `await w.create(name, text)`, `w.request_delete(name)` then
    `await w.confirm_delete()`, `await w.unload(name)`, `await w.refresh_running()`.
    `w.close()` stops its background tasks.
    """

    _ticking: weakref.ref[ModelManager] | None = None  # the panel whose countdown runs

    def __init__(self, client: ollama.AsyncClient | ollama.Client | str | None = None) -> None:
        super().__init__()
        self.add_class("ollama-models")
        self._given = client if isinstance(client, ollama.AsyncClient) else None
        self._host = client if isinstance(client, str) else _host_of(client)
        self._aclient: ollama.AsyncClient | None = None
        self._aclient_loop: asyncio.AbstractEventLoop | None = None

        self.models: list[dict[str, Any]] = []
        self.running: list[dict[str, Any]] = []
        self.details: dict[str, Any] | None = None
        self.status = ""
        self.last_error: str | None = None
        self.pending_delete: str | None = None
        self.pull_state: dict[str, Any] = {}

        self._tasks: set[asyncio.Task] = set()
        self._pull_task: asyncio.Task | None = None
        self._ticker: asyncio.Task | None = None
        self._closed = False
        self._refresh_seq = 0
        self._refresh_applied = 0
        self._ps_seq = 0
        self._ps_applied = 0
        self._running_names: tuple[str, ...] = ()
        self._syncing_options = False

        self._build()
        self._start_initial_refresh()

    # -- layout ------------------------------------------------------------------------------
    def _build(self) -> None:
        w = widgets
        self.total_label = w.HTML()
        self.total_label.add_class("models-total")
        self.sort_column = w.Dropdown(
            options=[(_(f"col_{key}"), key) for key in COLUMNS],
            value="name",
            description=_("sort_by"),
        )
        self.sort_descending = w.Checkbox(value=False, description=_("descending"), indent=False)
        self.refresh_button = _button(_("refresh"), "models-refresh", icon="refresh")
        self.table = w.HTML()
        self.table.add_class("models-table-view")
        self.bridge = Bridge(".ollama-models")
        self.bridge.on_action(self._on_action)
        self.bridge.on_views(self._on_views)
        self._status_views = {}
        for section in SECTIONS:
            view = w.HTML()
            view.add_class("models-status")
            view.add_class(f"models-{section}-status")
            self._status_views[section] = view
        self.model_select = w.Dropdown(options=[], description=_("model"), value=None)
        self.model_select.add_class("models-select")
        self.copy_name = w.Text(placeholder=_("copy_placeholder"), description=_("copy_to"))
        self.copy_name.add_class("models-copy-name")
        self.copy_button = _button(_("copy"), "models-copy")
        self.copy_box = w.HBox([self.copy_name, self.copy_button], layout=w.Layout(display="none"))
        self.delete_button = _button(_("delete"), "models-delete", button_style="danger")
        self.confirm_text = w.HTML()
        self.confirm_button = _button(_("confirm"), "models-confirm", button_style="danger")
        self.confirm_cancel_button = _button(_("cancel"), "models-confirm-cancel")
        self.confirm_box = w.HBox(
            [self.confirm_text, self.confirm_button, self.confirm_cancel_button],
            layout=w.Layout(display="none"),
        )
        self.confirm_box.add_class("models-confirm-box")
        self.details_view = w.HTML()
        self.details_view.add_class("models-details")

        self.pull_name = w.Text(  # wide enough for the whole example name in the placeholder
            placeholder=_("pull_placeholder"), description=_("pull"), layout=w.Layout(width="400px")
        )
        self.pull_name.add_class("models-pull-name")
        self.pull_button = _button(
            _("pull"), "models-pull", button_style="primary", icon="download"
        )
        self.cancel_button = _button(_("cancel"), "models-cancel", disabled=True)
        self.progress = w.FloatProgress(value=0, min=0, max=100, description=_("overall"))
        self.progress.add_class("models-progress")
        self.progress.add_class("models-progress-overall")
        self.pull_figures = w.HTML()
        self.pull_figures.add_class("models-pull-figures")
        self.layer_box = w.VBox()
        self.layer_bars: dict[str, widgets.FloatProgress] = {}
        self._layer_labels: dict[str, widgets.HTML] = {}
        self.recommended = w.HBox(
            [self._recommended_button(name, size) for name, size in _recommended()],
            layout=w.Layout(flex_flow="row wrap"),
        )

        self.create_name = w.Text(placeholder=_("create_placeholder"), description=_("create"))
        self.create_name.add_class("models-create-name")
        self.modelfile_text = w.Textarea(
            placeholder='FROM llama3.1\nSYSTEM """You are Mario from Super Mario Bros."""',
            layout=w.Layout(width="100%", height="7em"),
        )
        self.modelfile_text.add_class("models-modelfile")
        self.create_button = _button(_("create"), "models-create")
        self.create_log = w.HTML()
        self.create_log.add_class("models-create-log")

        self.running_view = w.HTML()
        self.unload_box = w.HBox(layout=w.Layout(flex_flow="row wrap"))
        self.status_line = self._status_views["table"]  # the status line written last
        self.layer_fold = w.Accordion([self.layer_box], titles=(_("layers"),))
        self.layer_fold.selected_index = None
        self.layer_fold.add_class("models-layers")

        def heading(text: str) -> widgets.HTML:
            return w.HTML(f"<h4 style='margin:0.6em 0 0.2em'>{html.escape(text)}</h4>")

        # The table is the control: a header sorts, a row shows its details, and each row has
        # its own Copy, Unload and Delete. Each section's status line sits under its buttons.
        self.children = [
            w.HTML(_CSS),
            heading(_("h_local")),
            w.HBox([self.total_label, self.refresh_button], layout=w.Layout(align_items="center")),
            self.table,
            self._status_views["table"],
            self.confirm_box,
            self.copy_box,
            self.details_view,
            heading(_("h_pull")),
            w.HBox([self.pull_name, self.pull_button, self.cancel_button]),
            self._status_views["pull"],
            w.HTML(html.escape(_("small_models"))),
            self.recommended,
            self.progress,
            self.pull_figures,
            self.layer_fold,
            heading(_("h_create")),
            self.create_name,
            self.modelfile_text,
            w.HBox([self.create_button]),
            self._status_views["create"],
            self.create_log,
            heading(_("h_running")),
            self.running_view,
            self.unload_box,
            self.bridge,
        ]

        self.sort_column.observe(lambda _: self._render_models(), names="value")
        self.sort_descending.observe(lambda _: self._render_models(), names="value")
        self.model_select.observe(self._on_select, names="value")
        self.refresh_button.on_click(lambda _: self._spawn(self._refresh_all(clear=True)))
        self.copy_button.on_click(self._on_copy)
        self.delete_button.on_click(lambda _: self.request_delete())
        self.confirm_button.on_click(lambda _: self._spawn(self.confirm_delete()))
        self.confirm_cancel_button.on_click(lambda _: self.cancel_delete())
        self.pull_button.on_click(lambda _: self._spawn(self.pull()))
        self.cancel_button.on_click(lambda _: self.cancel_pull())
        self.create_button.on_click(
            lambda _: self._spawn(self.create(self.create_name.value, self.modelfile_text.value))
        )
        self._render_models()
        self._render_running()

    def _recommended_button(self, name: str, size: int) -> widgets.Button:
        button = _button(f"{name} · {human_bytes(size)}", "models-recommended")
        button.layout.width = "auto"
        button.on_click(lambda _: setattr(self.pull_name, "value", name))
        return button

    def __repr__(self) -> str:
        return "ModelManager()"

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        self.start_ticker()  # the countdown runs while the panel is shown
        return super()._repr_mimebundle_(**kwargs)

    # -- plumbing ----------------------------------------------------------------------------
    def _client(self) -> ollama.AsyncClient:
        """The AsyncClient, made in (and bound to) the loop that runs the call."""
        if self._given is not None:
            return self._given
        loop = asyncio.get_running_loop()
        if self._aclient is None or self._aclient_loop is not loop:
            self._aclient = ollama.AsyncClient(host=self._host)
            self._aclient_loop = loop
        return self._aclient

    @property
    def host(self) -> str:
        return self._host or _host_of(self._given) or current_host()

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task | None:
        """Run `coro` as a task on the running loop, keeping a reference (the loop keeps none)."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            coro.close()
            self._say(_("no_loop"), True)
            return None
        task = loop.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    def _start_initial_refresh(self) -> None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            return  # built outside a loop (a plain script): `await w.refresh()` fills it later
        self._spawn(self._refresh_all())

    async def _refresh_all(self, clear: bool = False) -> None:
        if clear:  # Refresh starts afresh: an old "Kept ..." or error no longer applies
            self._say("", where="table")
        await self.refresh()
        await self.refresh_running()

    def _say(self, message: str, error: bool = False, where: str = "table") -> None:
        """Show `message` in the status line of the section whose button caused it."""
        self.status = message
        self.last_error = message if error else None
        color = "#b00020" if error else "inherit"
        self.status_line = self._status_views[where]
        self.status_line.value = (
            f"<span class='models-status-text' style='color:{color}'>{html.escape(message)}</span>"
            if message
            else ""
        )

    def _fail(self, exc: BaseException, model: str | None = None, where: str = "table") -> None:
        self._say(self._explain(exc, model), error=True, where=where)

    def _explain(self, exc: BaseException, model: str | None) -> str:
        text = getattr(exc, "error", "") or ""
        if isinstance(exc, ollama.ResponseError) and "file does not exist" in text:
            return _("no_such_model", model=model, text=text)
        if isinstance(exc, ollama.ResponseError) and exc.status_code == -1 and "not found" in text:
            exc = ollama.ResponseError(text, 404)  # a stream's error line: same cause as a 404
        return explain(exc, model=model, host=self.host)

    async def _guard(
        self, make: Callable[[], Awaitable[Any]], model: str | None = None, where: str = "table"
    ) -> Any:
        """Await `make()`, turning any failure into one sentence in the status line."""
        try:
            return await make()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - every failure is shown, none escapes the panel
            self._fail(exc, model, where)
            return None

    def _resolve(self, name: str) -> str:
        """The local name for `name`: "llama3.2" means "llama3.2:latest"."""
        name = (name or "").strip()
        names = {m["name"] for m in self.models}
        if name in names or ":" in name.rsplit("/", 1)[-1]:
            return name
        return f"{name}:latest" if f"{name}:latest" in names else name

    # -- local models ------------------------------------------------------------------------
    async def refresh(self, quiet: bool = False) -> list[dict[str, Any]]:
        """Ask `list()` again and redraw the table; returns `self.models`.

        `quiet` (the background poll) shows no error: a server that went away for a moment
        should not fill the status line once a second."""
        self._refresh_seq += 1
        seq = self._refresh_seq
        if quiet:
            try:
                response = await self._client().list()
            except Exception:  # noqa: BLE001 - the next poll tries again
                return self.models
        else:
            response = await self._guard(lambda: self._client().list())
        if response is None or seq < self._refresh_applied:
            return self.models  # an error, or a newer refresh already answered
        self._refresh_applied = seq
        self.models = [_model_row(m) for m in response.models]
        self._render_models()
        return self.models

    def sort(self, column: str, descending: bool = False) -> None:
        """Sort the table by one of name, size, family, parameters, quantization, modified."""
        if column not in COLUMNS:
            raise ValueError(f"cannot sort by {column!r}; choose one of {', '.join(COLUMNS)}")
        with self.hold_trait_notifications():
            self.sort_column.value = column
            self.sort_descending.value = descending
        self._render_models()

    def sorted_models(self) -> list[dict[str, Any]]:
        key = self.sort_column.value
        keys: dict[str, Callable[[dict[str, Any]], Any]] = {
            "name": lambda m: m["name"].lower(),
            "size": lambda m: m["size"],
            "family": lambda m: (m["family"].lower(), m["name"]),
            "parameters": lambda m: _parameter_count(m["parameter_size"]),
            "quantization": lambda m: (m["quantization"], m["name"]),
            "modified": lambda m: _timestamp(m["modified_at"]),
        }
        return sorted(self.models, key=keys[key], reverse=self.sort_descending.value)

    def _render_models(self) -> None:
        rows = []
        running = {r["name"] for r in self.running}
        selected = self.model_select.value
        for m in self.sorted_models():
            cells = [
                m["name"],
                human_bytes(m["size"]),
                m["family"],
                m["parameter_size"],
                m["quantization"],
                m["modified"],
            ]
            name = html.escape(m["name"])
            tds = "".join(f"<td{_CELL}>{html.escape(str(c))}</td>" for c in cells)
            actions = [("copy", "")]
            if m["name"] in running:
                actions.append(("unload", ""))
            actions.append(("delete", " danger"))
            buttons = "".join(
                f'<button class="models-row-button models-row-{act}{extra}" '
                f'data-action="{act}" data-value="{name}" title="{_(f"{act}_name", name=name)}">'
                f"{_(act)}</button>"
                for act, extra in actions
            )
            chosen = " class='selected'" if m["name"] == selected else ""
            rows.append(
                f'<tr data-model="{name}" data-action="select" data-value="{name}"{chosen}>'
                f"{tds}<td class='models-actions'{_CELL}>{buttons}</td></tr>"
            )
        head = ""
        for key in COLUMNS:
            label = _(f"col_{key}")
            arrow = ""
            if key == self.sort_column.value:
                arrow = " ▼" if self.sort_descending.value else " ▲"
            head += (
                f'<th{_CELL} data-action="sort" data-value="{key}" '
                f'title="{_("sort_title", label=label.lower())}">{label}{arrow}</th>'
            )
        head += f"<th{_CELL}></th>"
        span = len(COLUMNS) + 1
        empty = _("no_local_models")
        body = "".join(rows) or f"<tr><td colspan='{span}'>{empty}</td></tr>"
        self.table.value = (
            f"<table class='models-table'><thead><tr>{head}</tr></thead><tbody>{body}</tbody>"
            "</table>"
        )
        total = sum(m["size"] for m in self.models)
        count = len(self.models)
        self.total_label.value = _(
            "total_one" if count == 1 else "total_many", count=count, size=human_bytes(total)
        )
        names = [m["name"] for m in self.sorted_models()]
        current = self.model_select.value
        self._syncing_options = True  # new options pass through other values: no show() for them
        try:
            self.model_select.options = names
            self.model_select.value = current if current in names else None
        finally:
            self._syncing_options = False
        if self.model_select.value != current:
            self._on_select({"new": self.model_select.value})

    def _on_select(self, change: dict[str, Any]) -> None:
        if self._syncing_options:
            return
        self._render_models()  # mark the chosen row
        if change["new"]:
            self._spawn(self.show(change["new"]))
        else:
            self.details = None
            self.details_view.value = ""

    def _on_action(self, action: str, value: str) -> None:
        """A click in the table, sent by the Bridge: sort, select, copy, unload or delete."""
        if action == "sort" and value in COLUMNS:
            if value == self.sort_column.value:
                self.sort(value, not self.sort_descending.value)
            else:
                self.sort(value)
        elif action == "select":
            self.model_select.value = value if value in self.model_select.options else None
        elif action == "copy":
            self.start_copy(value)
        elif action == "unload":
            self._spawn(self.unload(value))
        elif action == "delete":
            self.request_delete(value)

    def _on_views(self, views: int) -> None:
        if views:
            self.start_ticker()  # the countdown and the polling run while the panel is shown

    def start_copy(self, name: str) -> str:
        """Open the "Copy to" box under the table for `name`, with a free name filled in."""
        if name in self.model_select.options:
            self.model_select.value = name
        base = name.split(":", 1)[0].rsplit("/", 1)[-1]
        taken = {m["name"].split(":", 1)[0] for m in self.models}
        suggestion, n = f"{base}-copy", 2
        while suggestion in taken:
            suggestion, n = f"{base}-copy{n}", n + 1
        self.copy_name.value = suggestion
        self.copy_button.description = _("copy_name", name=name)
        self.copy_box.layout.display = "flex"
        self._say(_("copy_prompt", name=name))
        return suggestion

    async def show(self, name: str) -> dict[str, Any] | None:
        """Fetch `show()` for `name` and display its details and Modelfile."""
        name = self._resolve(name)
        response = await self._guard(lambda: self._client().show(name), name)
        if response is None:
            return None
        license_text = response.license or ""
        self.details = {
            "name": name,
            "parameters": response.parameters or "",
            "template": response.template or "",
            "system": _system_from_modelfile(response.modelfile or ""),
            "capabilities": list(response.capabilities or []),
            "license_head": "\n".join(license_text.strip().splitlines()[:3]),
            "modelfile": response.modelfile or "",
        }
        self.details_view.value = _details_html(self.details)
        return self.details

    async def copy(self, source: str, destination: str) -> bool:
        """Copy `source` to `destination` (a new name for the same layers)."""
        source, destination = self._resolve(source), (destination or "").strip()
        if not source or not destination:
            self._say(_("copy_needs"), True)
            return False
        done = await self._guard(lambda: self._client().copy(source, destination), source)
        if done is None:
            return False
        self._say(_("copied", source=source, destination=destination))
        self.copy_box.layout.display = "none"
        await self.refresh()
        return True

    def _on_copy(self, _: Any) -> None:
        self._spawn(self.copy(self.model_select.value or "", self.copy_name.value))

    async def create(self, name: str, modelfile_text: str) -> bool:
        """Create `name` from Modelfile text, showing each status the server sends."""
        name = (name or "").strip()
        if not name:
            self._say(_("create_needs_name"), True, "create")
            return False
        try:
            kwargs = _create_kwargs(modelfile_text or "")
        except ValueError as exc:
            self._say(_("bad_modelfile", error=exc), True, "create")
            return False
        statuses: list[str] = []

        def log(line: str) -> None:
            statuses.append(line)
            items = "".join(f"<li>{html.escape(s)}</li>" for s in statuses[-12:])
            self.create_log.value = f"<ul class='models-create-statuses'>{items}</ul>"

        async def run() -> bool:
            client = self._client()
            if kwargs.get("adapters"):
                kwargs["adapters"] = {
                    filename: await client.create_blob(path)
                    for filename, path in kwargs["adapters"].items()
                }
            async for part in await client.create(model=name, stream=True, **kwargs):
                log(part.status or "")
            return True

        log(_("creating", name=name, base=kwargs.get("from_", "?")))
        if await self._guard(run, kwargs.get("from_"), "create") is None:
            log(_("create_failed"))
            return False
        self._say(_("created", name=name), where="create")
        await self.refresh()
        return True

    # -- delete behind a confirmation --------------------------------------------------------
    def freed_bytes(self, name: str) -> int:
        """Bytes a delete frees: none when another local name shares the same manifest."""
        model = next((m for m in self.models if m["name"] == name), None)
        if model is None:
            return 0
        shared = any(m["digest"] == model["digest"] and m["name"] != name for m in self.models)
        return 0 if shared else model["size"]

    def request_delete(self, name: str | None = None) -> str | None:
        """Ask for confirmation before deleting; nothing is deleted until `confirm_delete()`."""
        name = self._resolve(name or self.model_select.value or "")
        if not name:
            self._say(_("delete_needs"), True)
            return None
        if name not in {m["name"] for m in self.models}:
            self._say(_("no_local", name=name), True)
            return None
        self.pending_delete = name
        freed = self.freed_bytes(name)
        if freed:
            question = _("delete_question", name=name, size=human_bytes(freed))
        else:
            question = _("delete_shared", name=name)
        self.confirm_text.value = f"<b>{html.escape(question)}</b>"
        self.confirm_box.layout.display = "flex"
        self._say(question)
        return question

    def cancel_delete(self) -> None:
        """Forget the pending delete; nothing is deleted."""
        if self.pending_delete:
            self._say(_("kept", name=self.pending_delete))
        self.pending_delete = None
        self.confirm_box.layout.display = "none"
        self.confirm_text.value = ""

    async def confirm_delete(self) -> bool:
        """Delete the model named by the last `request_delete()`."""
        name = self.pending_delete
        self.cancel_delete()
        if not name:
            self._say(_("nothing_to_confirm"), True)
            return False
        freed = self.freed_bytes(name)
        if await self._guard(lambda: self._client().delete(name), name) is None:
            return False
        self._say(_("deleted", name=name, size=human_bytes(freed)))
        await self.refresh()
        await self.refresh_running()
        return True

    # -- pull --------------------------------------------------------------------------------
    async def pull(self, name: str | None = None) -> bool:
        """Pull `name` (default: the pull box) with per-layer progress.

        Returns True when the model arrived and False on an error or after `cancel_pull()`.
        """
        name = (name if name is not None else self.pull_name.value).strip()
        if not name:
            self._say(_("pull_needs_name"), True, "pull")
            return False
        if self._pull_task and not self._pull_task.done():
            self._say(_("pull_busy"), True, "pull")
            return False
        self.pull_name.value = name
        task = asyncio.get_running_loop().create_task(self._pull(name))
        self._pull_task = task
        return await task

    def cancel_pull(self) -> bool:
        """Stop the running pull; closing the stream makes the server keep nothing of it."""
        task = self._pull_task
        if task is None or task.done():
            return False
        task.cancel()
        return True

    async def _pull(self, name: str) -> bool:
        self._reset_progress(name)
        self.pull_button.disabled, self.cancel_button.disabled = True, False
        self._say(_("pulling", name=name), where="pull")
        stream = None
        try:
            stream = await self._client().pull(name, stream=True)
            async for part in stream:
                self._on_progress(part)
            self._render_progress(force=True)
            self.pull_state["done"] = True
            self.progress.value = 100
            self.progress.bar_style = "success"
            self._say(_("pulled", name=name), where="pull")
            await self.refresh()
            return True
        except asyncio.CancelledError:
            self._end_progress("Cancelled", "warning")
            self._say(_("pull_cancelled", name=name), where="pull")
            self._spawn(self.refresh())
            return False  # this task is ours and ends here: the cancel is fully handled
        except Exception as exc:  # noqa: BLE001 - shown in the status line as one sentence
            self._end_progress("Failed", "danger")
            self._fail(exc, name, "pull")
            return False
        finally:
            if stream is not None:
                await _aclose(stream)
            self.pull_button.disabled, self.cancel_button.disabled = False, True

    def _end_progress(self, word: str, style: str) -> None:
        """After Cancel or a failure the progress line says so: nothing claims to be pulling."""
        completed, total = self.pull_totals()
        share = _("end_share", percent=f"{100 * completed / total:.0f}") if total else ""
        sizes = (
            _("end_sizes", done=human_bytes(completed), total=human_bytes(total)) if total else ""
        )
        self.pull_state["status"] = word.lower()
        self.progress.bar_style = style
        for bar in self.layer_bars.values():
            if bar.value < 100:
                bar.bar_style = style
        self.pull_figures.value = f"<b>{_(word.lower())}</b>{share}{sizes}."

    def _reset_progress(self, name: str) -> None:
        self.pull_state = {
            "name": name,
            "layers": {},
            "status": "",
            "started": time.monotonic(),
            "samples": [],
            "done": False,
            "last_render": 0.0,
            "rate": 0.0,
        }
        self.layer_bars.clear()
        self._layer_labels.clear()
        self.layer_box.children = ()
        self.progress.value = 0
        self.progress.bar_style = ""
        self.pull_figures.value = ""

    def _on_progress(self, part: Any) -> None:
        state = self.pull_state
        state["status"] = part.status or ""
        digest = part.digest
        if digest and part.total:
            state["layers"][digest] = [part.total, part.completed or 0]
            if digest not in self.layer_bars:
                bar = widgets.FloatProgress(value=0, min=0, max=100, description=digest[7:19])
                bar.add_class("models-progress")
                label = widgets.HTML()
                self.layer_bars[digest], self._layer_labels[digest] = bar, label
                self.layer_box.children = (*self.layer_box.children, widgets.HBox([bar, label]))
        self._render_progress()

    def pull_totals(self) -> tuple[int, int]:
        """(completed, total) bytes over the layers seen so far."""
        layers = self.pull_state.get("layers", {}).values()
        return sum(c for _, c in layers), sum(t for t, _ in layers)

    def _render_progress(self, force: bool = False) -> None:
        state = self.pull_state
        now = time.monotonic()
        completed, total = self.pull_totals()
        if not force and now - state.get("last_render", 0.0) < RENDER_INTERVAL:
            return
        state["last_render"] = now
        # The download rate is smoothed over the redraws (an exponential moving average), so
        # the ETA neither jumps with each burst nor reads 0:00 while much is left.
        samples = state.setdefault("samples", [])
        if samples and now > samples[-1][0]:
            (t0, c0) = samples[-1]
            sample = max(0.0, (completed - c0) / (now - t0))
            old = state.get("rate", 0.0)
            state["rate"] = (
                sample if not old else RATE_SMOOTHING * sample + (1 - RATE_SMOOTHING) * old
            )
        samples[:] = [(now, completed)]
        for digest, (size, done) in state.get("layers", {}).items():
            self.layer_bars[digest].value = 100 * done / size if size else 100
            if done >= size:
                self.layer_bars[digest].bar_style = "success"
            self._layer_labels[digest].value = f"{human_bytes(done)} / {human_bytes(size)}"
        self.progress.value = 100 * completed / total if total else 0
        rate = state.get("rate", 0.0)
        figures = [f"{human_bytes(completed)} / {human_bytes(total)}"] if total else []
        if rate > 0:
            figures.append(f"{human_bytes(rate)}/s")
            if total > completed:
                figures.append(_("eta", time=_duration(math.ceil((total - completed) / rate))))
        status = re.sub(r"\b(pulling) [0-9a-f]{12,}\b", r"\1 layers", state.get("status", ""))
        figures.append(html.escape(status))
        self.pull_figures.value = " · ".join(figures)

    # -- running models ----------------------------------------------------------------------
    async def refresh_running(self) -> list[dict[str, Any]]:
        """Ask `ps()` again and redraw the running table; returns `self.running`."""
        self._ps_seq += 1
        seq = self._ps_seq
        response = await self._guard(lambda: self._client().ps())
        if response is None or seq < self._ps_applied:
            return self.running
        self._ps_applied = seq
        self.running = [_running_row(m) for m in response.models]
        self._render_running()
        return self.running

    def seconds_left(self, name: str, now: float | None = None) -> float | None:
        """Seconds until `name` unloads, from its `expires_at` (None if not running)."""
        row = next((r for r in self.running if r["name"] == name), None)
        if row is None:
            return None
        return _timestamp(row["expires_at"]) - (time.time() if now is None else now)

    def _render_running(self) -> None:
        now = time.time()
        rows = []
        for r in self.running:
            left = _timestamp(r["expires_at"]) - now
            until = _("forever") if left > FOREVER_SECONDS else _duration(left)
            if left <= 0:
                until = _("unloading")
            cells = [r["name"], human_bytes(r["size"]), human_bytes(r["size_vram"]), r["processor"]]
            tds = "".join(f"<td{_CELL}>{html.escape(c)}</td>" for c in cells)
            expires = _timestamp(r["expires_at"])
            rows.append(
                f'<tr data-model="{html.escape(r["name"])}">{tds}'
                f"<td class='models-expiry' data-expires='{expires:.0f}'{_CELL}>{until}</td></tr>"
            )
        head = "".join(
            f"<th{_CELL}>{_(f'col_{h}')}</th>"
            for h in ("name", "size", "vram", "processor", "until")
        )
        body = "".join(rows) or f"<tr><td colspan='5'>{_('none_loaded')}</td></tr>"
        value = (
            f"<table class='models-running'><thead><tr>{head}</tr></thead><tbody>{body}</tbody>"
            "</table>"
        )
        if self.running_view.value != value:  # unchanged text sends no comm message
            self.running_view.value = value
        names = tuple(r["name"] for r in self.running)
        if names != self._running_names:
            self._running_names = names
            self.unload_box.children = [self._unload_button(n) for n in names]
            self._render_models()  # the rows' Unload buttons follow what is loaded

    def _unload_button(self, name: str) -> widgets.Button:
        button = _button(_("unload_name", name=name), "models-unload")
        button.layout.width = "auto"
        button.on_click(lambda _: self._spawn(self.unload(name)))
        return button

    async def unload(self, name: str) -> bool:
        """Free the memory `name` holds now (keep_alive=0); the model stays on disk."""

        async def run() -> Any:
            client = self._client()
            try:
                return await client.generate(model=name, keep_alive=0)
            except ollama.ResponseError as exc:
                if "does not support" not in (exc.error or ""):
                    raise
                return await client.embed(model=name, input="", keep_alive=0)  # embedding models

        if await self._guard(run, name) is None:
            return False
        self._say(_("unloaded", name=name))
        await self.refresh_running()
        return True

    def start_ticker(self) -> bool:
        """Start the once-a-second countdown (asking `ps()` again every ten seconds).

        Displaying the panel starts it. Only the newest panel ticks: re-running a cell makes a
        new panel, and the old one (never closed) would otherwise poll forever.
        """
        if self._closed or (self._ticker and not self._ticker.done()):
            return False
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return False
        previous = ModelManager._ticking() if ModelManager._ticking else None
        if previous is not None and previous is not self:
            previous.stop_ticker()
        ModelManager._ticking = weakref.ref(self)
        self._ticker = loop.create_task(self._tick())
        return True

    def stop_ticker(self) -> None:
        if self._ticker and not self._ticker.done():
            self._ticker.cancel()
        self._ticker = None

    async def _tick(self, interval: float = 1.0) -> None:
        """Redraw the countdown; never prints (a task outliving its cell must stay silent).

        While a view is on screen it also asks `list()` and `ps()` every second, so models
        deleted, pulled or loaded by a cell or another client show up within two seconds."""
        ticks = 0
        while not self._closed:
            expired = any(_timestamp(r["expires_at"]) <= time.time() for r in self.running)
            shown = self.bridge.views > 0
            if shown and ticks:
                await self.refresh(quiet=True)
            if ticks % PS_POLL_TICKS == 0 or expired or shown:
                await self.refresh_running()
            else:
                self._render_running()
            ticks += 1
            await asyncio.sleep(interval)

    def close(self) -> None:
        """Stop the countdown and any pull, then close the panel's widgets."""
        self._closed = True
        self.stop_ticker()
        self.cancel_pull()
        for task in list(self._tasks):
            task.cancel()
        for child in _descendants(self):
            child.close()
        super().close()


# -- helpers -------------------------------------------------------------------------------------
def _recommended() -> tuple[tuple[str, int], ...]:
    try:
        from ollama_nb.server.catalog import RECOMMENDED
    except ImportError:
        return ()
    return RECOMMENDED


def _model_row(m: Any) -> dict[str, Any]:
    details = m.details
    return {
        "name": m.model or "",
        "size": int(m.size or 0),
        "family": (details.family if details else None) or "",
        "parameter_size": (details.parameter_size if details else None) or "",
        "quantization": (details.quantization_level if details else None) or "",
        "modified": _iso_utc(m.modified_at),
        "modified_at": m.modified_at,
        "digest": m.digest or "",
    }


def _running_row(m: Any) -> dict[str, Any]:
    size, vram = int(m.size or 0), int(m.size_vram or 0)
    if not size or not vram:
        processor = "100% CPU"
    elif vram >= size:
        processor = "100% GPU"
    else:
        gpu = round(100 * vram / size)
        processor = f"{100 - gpu}%/{gpu}% CPU/GPU"
    return {
        "name": m.model or m.name or "",
        "size": size,
        "size_vram": vram,
        "processor": processor,
        "expires_at": m.expires_at,
        "context_length": m.context_length,
    }


def _details_html(d: dict[str, Any]) -> str:
    def block(title: str, text: str) -> str:
        if not text:
            return ""
        return (
            f"<div><b>{title}</b><pre style='white-space:pre-wrap'>{html.escape(text)}</pre></div>"
        )

    caps = ", ".join(d["capabilities"]) or _("unknown")
    return (
        f"<div class='models-details-body'><b>{html.escape(d['name'])}</b>"
        f" · {_('capabilities')}: {html.escape(caps)}"
        + block(_("b_parameters"), d["parameters"])
        + block(_("b_system"), d["system"])
        + block(_("b_template"), d["template"])
        + block(_("b_license"), d["license_head"])
        + "<details><summary>Modelfile</summary>"
        + f"<pre style='white-space:pre-wrap'>{html.escape(d['modelfile'])}</pre></details></div>"
    )


def _descendants(box: widgets.Box) -> list[widgets.Widget]:
    out: list[widgets.Widget] = []
    for child in box.children:
        out.append(child)
        if isinstance(child, widgets.Box):
            out.extend(_descendants(child))
    return out


async def _aclose(stream: Any) -> None:
    aclose = getattr(stream, "aclose", None)
    if aclose is not None:
        try:
            await aclose()
        except Exception:  # noqa: BLE001 - the stream is already broken; closing is best effort
            pass
