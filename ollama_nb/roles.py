"""Which installed model serves each role the notebooks need: chat, embed, tools, thinking, vision.

A learner's own Ollama holds whatever they pulled. Guessing from names or families goes wrong
(an embedding model in family gemma3, a cloud model that sends prompts to ollama.com), so the
choice reads what `show()` reports: `capabilities`, and `remote_host` for cloud models. The
tutorial's own names win when installed; nothing is ever pulled here. For each role left
without a model the plan names the one `ollama pull` that fills it and its download size.
"""

from __future__ import annotations

import json
import os
import urllib.request
from dataclasses import dataclass, field

from .i18n import Messages

ROLES = ("chat", "embed", "tools", "thinking", "vision")
# The tutorial's names first, then other well-known names, for each role.
PREFERRED: dict[str, tuple[str, ...]] = {
    "chat": ("llama3.1", "llama3.2", "llama3.2:1b"),
    "embed": ("nomic-embed-text", "all-minilm", "mxbai-embed-large"),
    "tools": ("llama3.1", "llama3.2", "llama3.2:1b", "qwen3:0.6b"),
    "thinking": ("qwen3:0.6b", "qwen3", "deepseek-r1"),
    "vision": ("llava", "llama3.2-vision", "moondream"),
}
# The one small model to pull for a missing role: (name, download size in bytes).
SUGGESTED: dict[str, tuple[str, int]] = {
    "chat": ("qwen3:0.6b", 522_653_767),
    "embed": ("all-minilm", 45_960_996),
    "tools": ("qwen3:0.6b", 522_653_767),
    "thinking": ("qwen3:0.6b", 522_653_767),
    "vision": ("moondream", 1_738_000_000),
}
# What each role needs from `show()`'s capabilities.
NEEDS = {
    "chat": "completion",
    "embed": "embedding",
    "tools": "tools",
    "thinking": "thinking",
    "vision": "vision",
}
ENV = {"chat": "OLLAMA_NB_MODEL", "embed": "OLLAMA_NB_EMBED_MODEL"}

_ = Messages(
    {
        "role.chat": {"en": "chat", "zh": "对话"},
        "role.embed": {"en": "embeddings", "zh": "向量"},
        "role.tools": {"en": "tools", "zh": "工具调用"},
        "role.thinking": {"en": "thinking", "zh": "思考"},
        "role.vision": {"en": "images", "zh": "看图"},
        "missing_override": {
            "en": "{env}={name}, but {name} is not installed (`ollama pull {name}`); "
            "using {chosen} for now.",
            "zh": "{env}={name}，但本机没有安装 {name}（可运行 `ollama pull {name}`）；"
            "暂时改用 {chosen}。",
        },
        "missing_override_none": {
            "en": "{env}={name}, but {name} is not installed (`ollama pull {name}`).",
            "zh": "{env}={name}，但本机没有安装 {name}（可运行 `ollama pull {name}`）。",
        },
        "none": {"en": "none installed", "zh": "未安装"},
        "pull": {
            "en": "to add one: `ollama pull {name}` ({size})",
            "zh": "添加一个：`ollama pull {name}`（{size}）",
        },
        "embed_with_chat": {
            "en": "no embedding model: {name} makes the vectors for now (it works, but an "
            "embedding model is better: `ollama pull {pull}` ({size}))",
            "zh": "没有向量模型：暂时用 {name} 生成向量（可以用，但向量模型更好："
            "`ollama pull {pull}`（{size}））",
        },
        "cloud": {
            "en": "Cloud models ({names}) are left out: they send your prompts to ollama.com. "
            "Name one in OLLAMA_NB_MODEL to use it.",
            "zh": "云端模型（{names}）不参与选择：它们会把你的提示发送到 ollama.com。"
            "如要使用，请在 OLLAMA_NB_MODEL 中写明。",
        },
    }
)


@dataclass
class Installed:
    """One installed model as `list()` and `show()` describe it."""

    name: str
    size: int = 0
    capabilities: tuple[str, ...] = ()
    cloud: bool = False

    def can(self, role: str) -> bool:
        caps = self.capabilities
        if role == "chat":
            return "completion" in caps
        if role == "embed":
            return "embedding" in caps and "completion" not in caps
        return NEEDS[role] in caps and (role == "vision" or "completion" in caps)


@dataclass
class Plan:
    """role -> model name (None: nothing installed serves it), with the notes to print."""

    models: dict[str, str | None] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def __getitem__(self, role: str) -> str | None:
        return self.models.get(role)

    def describe(self) -> str:
        """One line per role: the model, or the pull that would fill it; then the notes."""
        lines = []
        for role in ROLES:
            name = self.models.get(role)
            label = f"{_('role.' + role)}:"
            if name:
                lines.append(f"  {label:<12} {name}")
            else:
                pull, size = SUGGESTED[role]
                hint = _("pull", name=pull, size=human_size(size))
                lines.append(f"  {label:<12} {_('none')}; {hint}")
        return "\n".join(lines + [f"  {note}" for note in self.notes])


def human_size(size: int) -> str:
    """522653767 -> '523 MB', 4920753328 -> '4.9 GB' (decimal units, as ollama.com shows)."""
    if size >= 1e9:
        return f"{size / 1e9:.1f} GB"
    return f"{max(size / 1e6, 1):.0f} MB"


def base_name(name: str) -> str:
    return name.removesuffix(":latest")


def is_cloud(name: str, show: dict) -> bool:
    """Cloud models answer from ollama.com: `remote_host` in show(), or a `-cloud` tag."""
    return bool(show.get("remote_host")) or name.endswith("-cloud") or name.endswith(":cloud")


def _post(url: str, path: str, body: dict, timeout: float = 5) -> dict:
    data = json.dumps(body).encode()
    request = urllib.request.Request(
        f"{url}{path}", data=data, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read() or b"{}")


def installed_models(url: str) -> list[Installed]:
    """Every installed model with its capabilities (from `show`; families when it has none)."""
    with urllib.request.urlopen(f"{url}/api/tags", timeout=5) as response:
        tags = json.loads(response.read() or b"{}").get("models") or []
    models = []
    for entry in tags:
        name = entry.get("model") or entry.get("name") or ""
        try:
            show = _post(url, "/api/show", {"model": name})
        except OSError:
            show = {}
        caps = tuple(show.get("capabilities") or ())
        if not caps:  # an Ollama older than 0.6 says nothing: judge by family
            family = (entry.get("details") or {}).get("family", "")
            caps = ("embedding",) if "bert" in family or "embed" in name else ("completion",)
        models.append(Installed(name, int(entry.get("size") or 0), caps, is_cloud(name, show)))
    return models


def _find(models: list[Installed], name: str) -> Installed | None:
    wanted = base_name(name)
    return next((m for m in models if base_name(m.name) == wanted), None)


def _pick(models: list[Installed], role: str) -> Installed | None:
    """The tutorial's name if installed, else the smallest local model that can do the role.

    For chat a model that does not think by default is preferred: its replies (and
    `num_predict` limits) hold the answer, not the reasoning.
    """
    local = [m for m in models if not m.cloud and m.can(role)]
    for name in PREFERRED[role]:
        found = _find(local, name)
        if found:
            return found
    if role == "chat":
        return min(local, key=lambda m: ("thinking" in m.capabilities, m.size), default=None)
    return min(local, key=lambda m: m.size, default=None)


def choose(models: list[Installed], env: dict[str, str] | None = None) -> Plan:
    """A model per role from what is installed; overrides from OLLAMA_NB_MODEL/EMBED_MODEL."""
    env = dict(os.environ if env is None else env)
    plan = Plan()
    for role in ROLES:
        picked = _pick(models, role)
        plan.models[role] = picked.name if picked else None
    for role, var in ENV.items():
        wanted = env.get(var)
        if not wanted:
            continue
        found = _find(models, wanted)
        if found:  # named explicitly: honoured even when it is a cloud model
            plan.models[role] = found.name
            for other in ("tools", "thinking", "vision") if role == "chat" else ():
                if NEEDS[other] in found.capabilities:
                    plan.models[other] = found.name
        elif plan.models[role]:
            key = "missing_override"
            plan.notes.append(_(key, env=var, name=wanted, chosen=plan.models[role]))
        else:
            plan.notes.append(_("missing_override_none", env=var, name=wanted))
    if not plan.models["embed"] and plan.models["chat"]:
        plan.models["embed"] = plan.models["chat"]
        pull, size = SUGGESTED["embed"]
        plan.notes.append(
            _("embed_with_chat", name=plan.models["chat"], pull=pull, size=human_size(size))
        )
    clouds = [m.name for m in models if m.cloud and m.name not in plan.models.values()]
    if clouds:
        plan.notes.append(_("cloud", names=", ".join(clouds)))
    return plan
