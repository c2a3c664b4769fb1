"""Model names as Ollama reads them: `[host/][namespace/]model[:tag]`.

Learners meet names like `llama3.1`, `llama3.1:latest` and `user/llama3.1` in the same lesson;
the practice server must treat them as the same or different models exactly where Ollama does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_HOST = "registry.ollama.ai"
DEFAULT_NAMESPACE = "library"
DEFAULT_TAG = "latest"

_HOST = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,349}")
_NAMESPACE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,79}")
_MODEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,79}")
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,79}")


@dataclass(frozen=True)
class ModelName:
    host: str
    namespace: str
    model: str
    tag: str

    @property
    def short(self) -> str:
        """The name `list()` and `ps()` show: `llama3.1:latest`, `user/llama3.1:latest`."""
        if self.host == DEFAULT_HOST and self.namespace == DEFAULT_NAMESPACE:
            return f"{self.model}:{self.tag}"
        if self.host == DEFAULT_HOST:
            return f"{self.namespace}/{self.model}:{self.tag}"
        return f"{self.host}/{self.namespace}/{self.model}:{self.tag}"

    @property
    def full(self) -> str:
        return f"{self.host}/{self.namespace}/{self.model}:{self.tag}"

    @property
    def has_own_namespace(self) -> bool:
        return self.namespace != DEFAULT_NAMESPACE


def parse_name(text: str) -> ModelName | None:
    """Parse and validate a model name; None when Ollama would call it invalid."""
    if not isinstance(text, str) or not text or len(text) > 512:
        return None
    name = text.split("@", 1)[0]
    tag = DEFAULT_TAG
    slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > slash:
        name, tag = name[:colon], name[colon + 1 :]
    parts = name.split("/")
    if len(parts) == 1:
        host, namespace, model = DEFAULT_HOST, DEFAULT_NAMESPACE, parts[0]
    elif len(parts) == 2:
        host, (namespace, model) = DEFAULT_HOST, parts
    elif len(parts) == 3:
        host, namespace, model = parts
    else:
        return None
    ok = (
        _HOST.fullmatch(host)
        and _NAMESPACE.fullmatch(namespace)
        and _MODEL.fullmatch(model)
        and _TAG.fullmatch(tag)
    )
    return ModelName(host.lower(), namespace.lower(), model.lower(), tag.lower()) if ok else None
