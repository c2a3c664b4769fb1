"""The models one can pull from the practice server's pretend registry.

Sizes, parameter counts, quantizations and capabilities follow the real library pages, so
that `list()`, `show()` and the model manager teach realistic numbers. No weights exist: a
model here is only metadata, and the engine makes up the replies.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

LLAMA_TEMPLATE = (
    "{{ if .System }}<|start_header_id|>system<|end_header_id|>\n\n{{ .System }}<|eot_id|>"
    "{{ end }}{{ range .Messages }}<|start_header_id|>{{ .Role }}<|end_header_id|>\n\n"
    "{{ .Content }}<|eot_id|>{{ end }}<|start_header_id|>assistant<|end_header_id|>\n\n"
)
QWEN_TEMPLATE = (
    "{{- range .Messages }}<|im_start|>{{ .Role }}\n{{ .Content }}<|im_end|>\n{{ end }}"
    "<|im_start|>assistant\n"
)
PLAIN_TEMPLATE = "{{ .Prompt }}"
LLAMA_LICENSE = (
    "LLAMA 3.1 COMMUNITY LICENSE AGREEMENT\nLlama 3.1 Version Release Date: July 23, 2024"
)
APACHE_LICENSE = "Apache License\nVersion 2.0, January 2004\nhttp://www.apache.org/licenses/"


@dataclass(frozen=True)
class CatalogModel:
    """One pullable model: what `show`, `list` and `ps` report about it."""

    name: str  # canonical short name with tag, e.g. "llama3.1:latest"
    family: str
    parameter_size: str
    quantization_level: str
    size: int  # bytes on disk, all layers together
    capabilities: tuple[str, ...]
    context_length: int
    embedding_length: int
    parameter_count: int
    template: str = PLAIN_TEMPLATE
    license: str = ""
    parameters: dict = field(default_factory=dict)
    tokens_per_second: float = 20.0  # nominal CPU speed, used for the simulated durations

    @property
    def families(self) -> list[str]:
        return [self.family]

    def layers(self) -> list[tuple[str, str, int]]:
        """(media type, digest, size) of each layer; the weights take almost all the bytes."""
        small = [
            ("application/vnd.ollama.image.template", self.template),
            ("application/vnd.ollama.image.license", self.license),
            ("application/vnd.ollama.image.params", repr(sorted(self.parameters.items()))),
        ]
        small = [(kind, text) for kind, text in small if text]
        small_sizes = [len(text.encode()) for _, text in small]
        weights = self.size - sum(small_sizes)
        out = [("application/vnd.ollama.image.model", digest_of(self.name + "/model"), weights)]
        for (kind, text), size in zip(small, small_sizes):
            out.append((kind, digest_of(text), size))
        return out


def digest_of(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


_M = 1_000_000
CATALOG: dict[str, CatalogModel] = {
    m.name: m
    for m in [
        CatalogModel(
            "llama3.1:latest",
            "llama",
            "8.0B",
            "Q4_K_M",
            4_920_753_328,
            ("completion", "tools"),
            131072,
            4096,
            8_030 * _M,
            LLAMA_TEMPLATE,
            LLAMA_LICENSE,
            {"stop": ["<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]},
            18.0,
        ),
        CatalogModel(
            "llama3.2:latest",
            "llama",
            "3.2B",
            "Q4_K_M",
            2_019_393_189,
            ("completion", "tools"),
            131072,
            3072,
            3_213 * _M,
            LLAMA_TEMPLATE,
            LLAMA_LICENSE,
            {"stop": ["<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]},
            35.0,
        ),
        CatalogModel(
            "llama3.2:1b",
            "llama",
            "1.2B",
            "Q8_0",
            1_321_098_329,
            ("completion", "tools"),
            131072,
            2048,
            1_236 * _M,
            LLAMA_TEMPLATE,
            LLAMA_LICENSE,
            {"stop": ["<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]},
            60.0,
        ),
        CatalogModel(
            "qwen3:latest",
            "qwen3",
            "8.2B",
            "Q4_K_M",
            5_225_388_164,
            ("completion", "tools", "thinking"),
            40960,
            4096,
            8_190 * _M,
            QWEN_TEMPLATE,
            APACHE_LICENSE,
            {"temperature": 0.6, "top_k": 20, "top_p": 0.95},
            16.0,
        ),
        CatalogModel(
            "qwen3:0.6b",
            "qwen3",
            "751.63M",
            "Q4_K_M",
            522_653_767,
            ("completion", "tools", "thinking"),
            40960,
            1024,
            751 * _M,
            QWEN_TEMPLATE,
            APACHE_LICENSE,
            {"temperature": 0.6, "top_k": 20, "top_p": 0.95},
            90.0,
        ),
        CatalogModel(
            "gemma3:270m",
            "gemma3",
            "268.10M",
            "Q8_0",
            291_554_930,
            ("completion",),
            32768,
            640,
            268 * _M,
            PLAIN_TEMPLATE,
            "Gemma Terms of Use",
            {"top_k": 64, "top_p": 0.95},
            120.0,
        ),
        CatalogModel(
            "llava:latest",
            "llama",
            "7B",
            "Q4_0",
            4_733_363_377,
            ("completion", "vision"),
            32768,
            4096,
            7_241 * _M,
            PLAIN_TEMPLATE,
            APACHE_LICENSE,
            {"stop": ["[INST]", "[/INST]"]},
            15.0,
        ),
        CatalogModel(
            "nomic-embed-text:latest",
            "nomic-bert",
            "137M",
            "F16",
            274_302_450,
            ("embedding",),
            2048,
            768,
            137 * _M,
            PLAIN_TEMPLATE,
            APACHE_LICENSE,
            {"num_ctx": 8192},
            400.0,
        ),
        CatalogModel(
            "all-minilm:latest",
            "bert",
            "23M",
            "F16",
            45_960_996,
            ("embedding",),
            512,
            384,
            23 * _M,
            PLAIN_TEMPLATE,
            APACHE_LICENSE,
            {},
            800.0,
        ),
    ]
}

# What the practice server has installed on first start: the tutorial's two models.
PREINSTALLED = ("llama3.1:latest", "nomic-embed-text:latest")

# Small models worth suggesting to learners, smallest first (name, bytes).
RECOMMENDED = tuple(
    (m.name, m.size)
    for m in sorted(CATALOG.values(), key=lambda m: m.size)
    if m.size < 2_100_000_000
)
