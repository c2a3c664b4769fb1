"""The models one can pull from the practice server's pretend registry.

Learners copy code from Ollama's docs, the `ollama` library's examples and tutorials, which
name `gemma3`, `llama3.1:8b`, `deepseek-r1`, `gpt-oss:20b`, `qwen2:0.5b` and more; every one
of them must pull. Sizes, parameter counts, quantizations and capabilities follow the real
library pages, so `list()`, `show()` and the model manager teach realistic numbers. No
weights exist: a model here is only metadata, and the engine makes up the replies.

To add a model, add one row to `TABLE` (and, for a new library name, its settings to
`LIBRARY`; a `latest` alias to `LATEST`).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace

LLAMA_TEMPLATE = (
    "{{ if .System }}<|start_header_id|>system<|end_header_id|>\n\n{{ .System }}<|eot_id|>"
    "{{ end }}{{ range .Messages }}<|start_header_id|>{{ .Role }}<|end_header_id|>\n\n"
    "{{ .Content }}<|eot_id|>{{ end }}<|start_header_id|>assistant<|end_header_id|>\n\n"
)
QWEN_TEMPLATE = (
    "{{- range .Messages }}<|im_start|>{{ .Role }}\n{{ .Content }}<|im_end|>\n{{ end }}"
    "<|im_start|>assistant\n"
)
GEMMA_TEMPLATE = (
    '{{- range .Messages }}<start_of_turn>{{ if eq .Role "assistant" }}model{{ else }}'
    "{{ .Role }}{{ end }}\n{{ .Content }}<end_of_turn>\n{{ end }}<start_of_turn>model\n"
)
MISTRAL_TEMPLATE = "{{- range .Messages }}[INST] {{ .Content }}[/INST]{{ end }}"
PHI_TEMPLATE = (
    "{{- range .Messages }}<|{{ .Role }}|>\n{{ .Content }}<|end|>\n{{ end }}<|assistant|>\n"
)
HARMONY_TEMPLATE = (
    "<|start|>system<|message|>Reasoning: {{ .ThinkLevel }}<|end|>"
    "{{- range .Messages }}<|start|>{{ .Role }}<|message|>{{ .Content }}<|end|>{{ end }}"
    "<|start|>assistant"
)
FIM_TEMPLATE = (
    "{{- if .Suffix }}<PRE> {{ .Prompt }} <SUF>{{ .Suffix }} <MID>{{ else }}{{ .Prompt }}{{ end }}"
)
PLAIN_TEMPLATE = "{{ .Prompt }}"
LLAMA_LICENSE = (
    "LLAMA 3.1 COMMUNITY LICENSE AGREEMENT\nLlama 3.1 Version Release Date: July 23, 2024"
)
APACHE_LICENSE = "Apache License\nVersion 2.0, January 2004\nhttp://www.apache.org/licenses/"
MIT_LICENSE = "MIT License\n\nCopyright (c) the model's authors"
GEMMA_LICENSE = "Gemma Terms of Use"
CLOUD_HOST = "https://ollama.com:443"


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
    weights: str = ""  # the name whose weights this is (tags of one model share them)
    think_levels: bool = False  # `think` takes "low"/"medium"/"high" (gpt-oss)
    remote_model: str = ""  # cloud models: the model ollama.com runs
    remote_host: str = ""

    @property
    def families(self) -> list[str]:
        return [self.family]

    @property
    def is_cloud(self) -> bool:
        return bool(self.remote_host)

    def layers(self) -> list[tuple[str, str, int]]:
        """(media type, digest, size) of each layer; the weights take almost all the bytes."""
        small = [
            ("application/vnd.ollama.image.template", self.template),
            ("application/vnd.ollama.image.license", self.license),
            ("application/vnd.ollama.image.params", repr(sorted(self.parameters.items()))),
        ]
        small = [(kind, text) for kind, text in small if text]
        small_sizes = [len(text.encode()) for _, text in small]
        weights = max(self.size - sum(small_sizes), 0)
        kind = "application/vnd.ollama.image.model"
        out = [(kind, digest_of((self.weights or self.name) + "/model"), weights)]
        for (kind, text), size in zip(small, small_sizes):
            out.append((kind, digest_of(text), size))
        return out


def digest_of(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


# Settings shared by every tag of one library name: template, license, parameters.
_LLAMA_STOP = {"stop": ["<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>"]}
_QWEN3 = {"temperature": 0.6, "top_k": 20, "top_p": 0.95}
_GEMMA = {"top_k": 64, "top_p": 0.95}
_QWEN_STOP = {"stop": ["<|im_start|>", "<|im_end|>"]}
LIBRARY: dict[str, tuple[str, str, dict]] = {
    "gemma3": (PLAIN_TEMPLATE, GEMMA_LICENSE, _GEMMA),
    "gemma3n": (GEMMA_TEMPLATE, GEMMA_LICENSE, _GEMMA),
    "gemma": (GEMMA_TEMPLATE, GEMMA_LICENSE, {"stop": ["<start_of_turn>", "<end_of_turn>"]}),
    "embeddinggemma": (PLAIN_TEMPLATE, GEMMA_LICENSE, {}),
    "llama3.1": (LLAMA_TEMPLATE, LLAMA_LICENSE, _LLAMA_STOP),
    "llama3.2": (LLAMA_TEMPLATE, LLAMA_LICENSE, _LLAMA_STOP),
    "llama3.2-vision": (LLAMA_TEMPLATE, LLAMA_LICENSE, {"temperature": 0.6, "top_p": 0.9}),
    "llama3": (LLAMA_TEMPLATE, LLAMA_LICENSE, {"num_keep": 24, **_LLAMA_STOP}),
    "qwen3": (QWEN_TEMPLATE, APACHE_LICENSE, _QWEN3),
    "qwen2": (QWEN_TEMPLATE, APACHE_LICENSE, _QWEN_STOP),
    "qwen2.5": (QWEN_TEMPLATE, APACHE_LICENSE, {}),
    "qwen2.5-coder": (QWEN_TEMPLATE, APACHE_LICENSE, {}),
    "qwen2.5vl": (QWEN_TEMPLATE, APACHE_LICENSE, {}),
    "deepseek-r1": (QWEN_TEMPLATE, MIT_LICENSE, {"temperature": 0.6, "top_p": 0.95}),
    "gpt-oss": (HARMONY_TEMPLATE, APACHE_LICENSE, {"temperature": 1}),
    "mistral": (MISTRAL_TEMPLATE, APACHE_LICENSE, {"stop": ["[INST]", "[/INST]"]}),
    "phi3": (PHI_TEMPLATE, MIT_LICENSE, {"stop": ["<|end|>", "<|user|>", "<|assistant|>"]}),
    "phi4": (PHI_TEMPLATE, MIT_LICENSE, {"stop": ["<|im_start|>", "<|im_end|>"]}),
    "codellama": (FIM_TEMPLATE, LLAMA_LICENSE, {"rope_frequency_base": 1000000}),
    "llava": (PLAIN_TEMPLATE, APACHE_LICENSE, {"stop": ["[INST]", "[/INST]"]}),
    "nomic-embed-text": (PLAIN_TEMPLATE, APACHE_LICENSE, {"num_ctx": 8192}),
    "mxbai-embed-large": (PLAIN_TEMPLATE, APACHE_LICENSE, {}),
    "all-minilm": (PLAIN_TEMPLATE, APACHE_LICENSE, {}),
    "bge-m3": (PLAIN_TEMPLATE, MIT_LICENSE, {}),
}

C, T, K, V, FIM, E = "completion", "tools", "thinking", "vision", "insert", "embedding"
# fmt: off
# name, family, parameter size, quantization, bytes, capabilities, context, embedding length,
# tokens per second (0: worked out from the parameter count)
TABLE: list[tuple] = [
    ("gemma3:270m", "gemma3", "268.10M", "Q8_0", 291_554_930, (C,), 32768, 640, 120.0),
    ("gemma3:1b", "gemma3", "999.89M", "Q4_K_M", 815_319_791, (C,), 32768, 1152, 0),
    ("gemma3:4b", "gemma3", "4.3B", "Q4_K_M", 3_338_801_804, (C, V), 131072, 2560, 0),
    ("gemma3:12b", "gemma3", "12.2B", "Q4_K_M", 8_149_190_253, (C, V), 131072, 3840, 0),
    ("gemma3:27b", "gemma3", "27.4B", "Q4_K_M", 17_396_936_941, (C, V), 131072, 5376, 0),
    ("gemma3n:e2b", "gemma3n", "4.5B", "Q4_K_M", 5_621_468_184, (C,), 32768, 2048, 0),
    ("gemma3n:e4b", "gemma3n", "6.9B", "Q4_K_M", 7_547_589_116, (C,), 32768, 2048, 0),
    ("gemma:2b", "gemma", "3B", "Q4_0", 1_678_456_656, (C,), 8192, 2048, 0),
    ("gemma:7b", "gemma", "9B", "Q4_0", 5_011_853_225, (C,), 8192, 3072, 0),
    ("llama3.1:8b", "llama", "8.0B", "Q4_K_M", 4_920_753_328, (C, T), 131072, 4096, 18.0),
    ("llama3.1:70b", "llama", "70.6B", "Q4_K_M", 42_520_413_916, (C, T), 131072, 8192, 0),
    ("llama3.2:1b", "llama", "1.2B", "Q8_0", 1_321_098_329, (C, T), 131072, 2048, 60.0),
    ("llama3.2:3b", "llama", "3.2B", "Q4_K_M", 2_019_393_189, (C, T), 131072, 3072, 35.0),
    ("llama3.2-vision:11b", "mllama", "10.7B", "Q4_K_M", 7_816_589_186, (C, V), 131072, 4096, 0),
    ("llama3:8b", "llama", "8.0B", "Q4_0", 4_661_224_676, (C,), 8192, 4096, 0),
    ("llama3:70b", "llama", "70.6B", "Q4_0", 39_969_745_349, (C,), 8192, 8192, 0),
    ("qwen3:0.6b", "qwen3", "751.63M", "Q4_K_M", 522_653_767, (C, T, K), 40960, 1024, 90.0),
    ("qwen3:1.7b", "qwen3", "2.0B", "Q4_K_M", 1_359_293_444, (C, T, K), 40960, 2048, 0),
    ("qwen3:4b", "qwen3", "4.0B", "Q4_K_M", 2_497_293_918, (C, T, K), 262144, 2560, 0),
    ("qwen3:8b", "qwen3", "8.2B", "Q4_K_M", 5_225_388_164, (C, T, K), 40960, 4096, 16.0),
    ("qwen3:14b", "qwen3", "14.8B", "Q4_K_M", 9_276_198_565, (C, T, K), 40960, 5120, 0),
    ("qwen3:30b", "qwen3moe", "30.5B", "Q4_K_M", 18_556_700_761, (C, T, K), 262144, 2048, 0),
    ("qwen3:32b", "qwen3", "32.8B", "Q4_K_M", 20_201_253_588, (C, T, K), 40960, 5120, 0),
    ("qwen2:0.5b", "qwen2", "494.03M", "Q4_0", 352_164_041, (C, T), 32768, 896, 0),
    ("qwen2:1.5b", "qwen2", "1.5B", "Q4_0", 934_964_102, (C, T), 32768, 1536, 0),
    ("qwen2:7b", "qwen2", "7.6B", "Q4_0", 4_431_400_262, (C, T), 32768, 3584, 0),
    ("qwen2.5:0.5b", "qwen2", "494.03M", "Q4_K_M", 397_821_319, (C, T), 32768, 896, 0),
    ("qwen2.5:1.5b", "qwen2", "1.5B", "Q4_K_M", 986_061_892, (C, T), 32768, 1536, 0),
    ("qwen2.5:3b", "qwen2", "3.1B", "Q4_K_M", 1_929_912_432, (C, T), 32768, 2048, 0),
    ("qwen2.5:7b", "qwen2", "7.6B", "Q4_K_M", 4_683_087_332, (C, T), 32768, 3584, 0),
    ("qwen2.5:14b", "qwen2", "14.8B", "Q4_K_M", 8_988_110_298, (C, T), 32768, 5120, 0),
    ("qwen2.5:32b", "qwen2", "32.8B", "Q4_K_M", 19_851_336_256, (C, T), 32768, 5120, 0),
    ("qwen2.5:72b", "qwen2", "72.7B", "Q4_K_M", 47_415_715_997, (C, T), 32768, 8192, 0),
    ("qwen2.5-coder:0.5b", "qwen2", "494.03M", "Q4_K_M", 397_821_450, (C, T, FIM), 32768, 896, 0),
    ("qwen2.5-coder:1.5b", "qwen2", "1.5B", "Q4_K_M", 986_062_089, (C, T, FIM), 32768, 1536, 0),
    ("qwen2.5-coder:7b", "qwen2", "7.6B", "Q4_K_M", 4_683_087_561, (C, T, FIM), 32768, 3584, 0),
    ("qwen2.5-coder:14b", "qwen2", "14.8B", "Q4_K_M", 8_988_124_069, (C, T, FIM), 32768, 5120, 0),
    ("qwen2.5-coder:32b", "qwen2", "32.8B", "Q4_K_M", 19_851_349_856, (C, T, FIM), 32768, 5120, 0),
    ("qwen2.5vl:7b", "qwen25vl", "8.3B", "Q4_K_M", 5_969_245_856, (C, V), 128000, 3584, 0),
    ("deepseek-r1:1.5b", "qwen2", "1.8B", "Q4_K_M", 1_117_322_599, (C, K), 131072, 1536, 0),
    ("deepseek-r1:7b", "qwen2", "7.6B", "Q4_K_M", 4_683_075_271, (C, K), 131072, 3584, 0),
    ("deepseek-r1:8b", "qwen3", "8.2B", "Q4_K_M", 5_225_376_047, (C, T, K), 131072, 4096, 0),
    ("deepseek-r1:14b", "qwen2", "14.8B", "Q4_K_M", 8_988_112_040, (C, K), 131072, 5120, 0),
    ("deepseek-r1:32b", "qwen2", "32.8B", "Q4_K_M", 19_851_337_640, (C, K), 131072, 5120, 0),
    ("deepseek-r1:70b", "llama", "70.6B", "Q4_K_M", 42_520_397_704, (C, K), 131072, 8192, 0),
    ("gpt-oss:20b", "gptoss", "20.9B", "MXFP4", 13_780_173_839, (C, T, K), 131072, 2880, 0),
    ("gpt-oss:120b", "gptoss", "116.8B", "MXFP4", 65_290_184_544, (C, T, K), 131072, 2880, 0),
    ("mistral:7b", "llama", "7.2B", "Q4_K_M", 4_372_824_384, (C, T), 32768, 4096, 0),
    ("phi3:3.8b", "phi3", "3.8B", "Q4_0", 2_176_178_913, (C,), 131072, 3072, 0),
    ("phi3:14b", "phi3", "14.0B", "Q4_0", 7_897_126_241, (C,), 131072, 5120, 0),
    ("phi4:14b", "phi3", "14.7B", "Q4_K_M", 9_053_116_391, (C,), 16384, 5120, 0),
    ("codellama:7b", "llama", "7B", "Q4_0", 3_825_910_662, (C,), 16384, 4096, 0),
    ("codellama:7b-code", "llama", "7B", "Q4_0", 3_825_910_675, (C, FIM), 16384, 4096, 0),
    ("codellama:13b", "llama", "13B", "Q4_0", 7_365_960_935, (C,), 16384, 5120, 0),
    ("codellama:13b-code", "llama", "13B", "Q4_0", 7_365_961_012, (C, FIM), 16384, 5120, 0),
    ("llava:7b", "llama", "7B", "Q4_0", 4_733_363_377, (C, V), 32768, 4096, 15.0),
    ("llava:13b", "llama", "13B", "Q4_0", 8_011_256_494, (C, V), 4096, 5120, 0),
    ("llava:34b", "llama", "34B", "Q4_0", 20_166_497_526, (C, V), 4096, 7168, 0),
    ("embeddinggemma:300m", "gemma3", "307.58M", "BF16", 621_875_917, (E,), 2048, 768, 0),
    ("nomic-embed-text:v1.5", "nomic-bert", "137M", "F16", 274_302_450, (E,), 2048, 768, 400.0),
    ("mxbai-embed-large:335m", "bert", "334.09M", "F16", 669_615_493, (E,), 512, 1024, 0),
    ("all-minilm:22m", "bert", "23M", "F16", 45_960_996, (E,), 512, 384, 800.0),
    ("all-minilm:33m", "bert", "33M", "F16", 66_782_578, (E,), 512, 384, 0),
    ("bge-m3:567m", "bert", "566.70M", "F16", 1_157_672_605, (E,), 8192, 1024, 0),
]
# fmt: on

# What `NAME` (that is `NAME:latest`) means: the same weights as this tag.
LATEST: dict[str, str] = {
    "gemma3": "gemma3:4b",
    "gemma3n": "gemma3n:e4b",
    "gemma": "gemma:7b",
    "llama3.1": "llama3.1:8b",
    "llama3.2": "llama3.2:3b",
    "llama3.2-vision": "llama3.2-vision:11b",
    "llama3": "llama3:8b",
    "qwen3": "qwen3:8b",
    "qwen2": "qwen2:7b",
    "qwen2.5": "qwen2.5:7b",
    "qwen2.5-coder": "qwen2.5-coder:7b",
    "qwen2.5vl": "qwen2.5vl:7b",
    "deepseek-r1": "deepseek-r1:8b",
    "gpt-oss": "gpt-oss:20b",
    "mistral": "mistral:7b",
    "phi3": "phi3:3.8b",
    "phi4": "phi4:14b",
    "codellama": "codellama:7b",
    "llava": "llava:7b",
    "embeddinggemma": "embeddinggemma:300m",
    "nomic-embed-text": "nomic-embed-text:v1.5",
    "mxbai-embed-large": "mxbai-embed-large:335m",
    "all-minilm": "all-minilm:22m",
    "bge-m3": "bge-m3:567m",
}

# Cloud models: a small manifest that points at ollama.com (cloud name -> the model it runs).
CLOUD: dict[str, str] = {
    "gpt-oss:20b-cloud": "gpt-oss:20b",
    "gpt-oss:120b-cloud": "gpt-oss:120b",
    "deepseek-v3.1:671b-cloud": "deepseek-v3.1:671b",
    "qwen3-coder:480b-cloud": "qwen3-coder:480b",
    "kimi-k2:1t-cloud": "kimi-k2:1t",
    "glm-4.6:cloud": "glm-4.6",
}
_CLOUD_INFO = {  # models only the cloud has: family, parameter size, quantization
    "deepseek-v3.1:671b": ("deepseek2", "671.0B", "FP8", (C, T, K)),
    "qwen3-coder:480b": ("qwen3moe", "480.2B", "FP8", (C, T)),
    "kimi-k2:1t": ("deepseek2", "1.0T", "FP8", (C, T)),
    "glm-4.6": ("glm4moe", "355.0B", "FP8", (C, T, K)),
}
CLOUD_MANIFEST_BYTES = 384


def _parameter_count(text: str) -> int:
    scale = {"M": 1e6, "B": 1e9, "T": 1e12}[text[-1]]
    return int(float(text[:-1]) * scale)


def _speed(count: int, given: float) -> float:
    """Nominal CPU tokens per second: smaller models are faster."""
    return given or round(min(150.0, 150.0 / max(count / 1e9, 0.2) ** 0.9), 1)


def _build() -> dict[str, CatalogModel]:
    out: dict[str, CatalogModel] = {}
    weights_of = {tag: f"{lib}:latest" for lib, tag in LATEST.items()}
    for name, family, psize, quant, size, caps, ctx, emb, tps in TABLE:
        template, license_text, params = LIBRARY[name.split(":")[0]]
        count = _parameter_count(psize)
        out[name] = CatalogModel(
            name, family, psize, quant, size, caps, ctx, emb, count, template, license_text,
            dict(params), _speed(count, tps), weights=weights_of.get(name, ""),
            think_levels=name.startswith("gpt-oss:"),
        )  # fmt: skip
    for lib, tag in LATEST.items():
        out[f"{lib}:latest"] = replace(out[tag], name=f"{lib}:latest")
    for cloud, remote in CLOUD.items():
        if remote in out:
            base = out[remote]
        else:
            family, psize, quant, caps = _CLOUD_INFO[remote]
            base = CatalogModel(remote, family, psize, quant, 0, caps, 131072, 7168,
                                _parameter_count(psize))  # fmt: skip
        out[cloud] = replace(
            base, name=cloud, size=CLOUD_MANIFEST_BYTES, template="", license="",
            parameters={}, weights="", remote_model=remote, remote_host=CLOUD_HOST,
            tokens_per_second=60.0,
        )  # fmt: skip
    return out


CATALOG: dict[str, CatalogModel] = _build()

# What the practice server has installed on first start: the tutorial's two models.
PREINSTALLED = ("llama3.1:latest", "nomic-embed-text:latest")

# Small models worth suggesting to learners, smallest first (name, bytes).
RECOMMENDED = tuple(
    (name, CATALOG[name].size)
    for name in sorted(
        (
            "all-minilm:latest",
            "nomic-embed-text:latest",
            "gemma3:270m",
            "qwen3:0.6b",
            "llama3.2:1b",
            "llama3.2:latest",
        ),
        key=lambda n: CATALOG[n].size,
    )
)
