"""Canned answers for the prompts the notebooks use, in English and Chinese.

Each entry has the keywords that pick it (all must appear in the normalised prompt) and
one or more answers; the engine labels every reply as a practice answer. A few answers speak
of the practice server themselves; `UNLABELLED` holds what they say instead when the server
poses as a real Ollama (pose.py), worded as a small real model might put it.
"""

from __future__ import annotations

ENTRIES: list[tuple[tuple[str, ...], str]] = [
    (
        ("sky", "blue"),
        "The sky looks blue because of Rayleigh scattering. Sunlight contains every colour, "
        "and when it passes through the atmosphere the tiny nitrogen and oxygen molecules "
        "scatter short wavelengths (blue and violet) much more strongly than long ones (red "
        "and orange). That scattered blue light reaches your eyes from every direction, so "
        "the whole sky glows blue. We see blue rather than violet because sunlight has less "
        "violet, some of it is absorbed high up, and our eyes are more sensitive to blue. At "
        "sunrise and sunset the light crosses much more air, most of the blue is scattered "
        "away, and the reds and oranges are left.",
    ),
    (
        ("天空", "蓝"),
        "天空之所以是蓝色的，是因为瑞利散射。太阳光包含各种颜色的光，当它穿过大气层时，"
        "空气中微小的氮分子和氧分子对波长较短的蓝光和紫光的散射比对红光和橙光强得多。"
        "这些被散射的蓝光从四面八方进入我们的眼睛，所以整个天空看起来是蓝色的。"
        "我们看到的是蓝色而不是紫色，是因为阳光中的紫光较少，一部分在高空被吸收，"
        "而且人眼对蓝光更敏感。日出和日落时，阳光要穿过更厚的大气，蓝光大多被散射掉，"
        "剩下的红光和橙光就让天空呈现出美丽的橙红色。",
    ),
    (
        ("sea", "salty"),
        "The sea is salty because rivers carry dissolved minerals from rocks into it, and "
        "when sea water evaporates the salt stays behind. Over millions of years the salt "
        "has built up to about 3.5 percent of the water's weight.",
    ),
    (
        ("海", "咸"),
        "海水是咸的，因为河流把岩石中溶解的矿物质带进大海，而海水蒸发时盐分留了下来。"
        "经过数百万年的积累，海水的含盐量达到了大约百分之三点五。",
    ),
    (
        ("what", "ollama"),
        "Ollama is a tool that runs large language models on your own computer. It downloads "
        "models such as Llama, Qwen and Gemma, serves them through a local HTTP API on port "
        "11434, and the `ollama` Python library lets you chat, generate text, make embeddings "
        "and manage models from Python.",
    ),
    (
        ("ollama", "是什么"),
        "Ollama 是一个在你自己的电脑上运行大语言模型的工具。它可以下载 Llama、Qwen、Gemma "
        "等模型，通过本地 11434 端口提供 HTTP API，而 `ollama` Python 库让你可以在 Python "
        "中聊天、生成文本、计算嵌入向量以及管理模型。",
    ),
    (
        ("joke",),
        "Why do programmers prefer dark mode? Because light attracts bugs.",
    ),
    (
        ("笑话",),
        "为什么程序员喜欢用深色模式？因为光会招来虫子（bug）。",
    ),
    (
        ("haiku",),
        "Quiet server hums,\nanswers written long ago,\npractice makes ready.",
    ),
    (
        ("capital", "france"),
        "The capital of France is Paris.",
    ),
    (
        ("法国", "首都"),
        "法国的首都是巴黎。",
    ),
    (
        ("embedding",),
        "An embedding is a list of numbers that places a piece of text in a space where texts "
        "with similar meaning lie close together, so you can compare meaning with simple "
        "arithmetic such as cosine similarity.",
    ),
    (
        ("嵌入",),
        "嵌入（embedding）是一串数字，它把一段文字放进一个空间里，意思相近的文字彼此靠得很近，"
        "于是可以用余弦相似度这样的简单计算来比较语义。",
    ),
    (
        ("tips", "python"),
        "Three tips for learning Python:\n\n1. **Write a little code every day**, even ten "
        "minutes.\n2. **Read error messages** from the bottom up: the last line says what went "
        "wrong.\n3. **Build something you care about**, such as a small script that tidies "
        "your files.\n\n```python\nprint('Hello, Python!')\n```",
    ),
    (
        ("llama",),
        "Llamas are South American camelids, related to alpacas, guanacos and vicuñas. They "
        "are social herd animals, used for centuries as pack animals in the Andes.",
    ),
    (
        ("hello",),
        "Hello! I am the practice server standing in for a language model. Ask me why the sky "
        "is blue, for a joke, or anything else to see how the `ollama` library works.",
    ),
    (
        ("hi",),
        "Hi! I am the practice server standing in for a language model. Ask me why the sky is "
        "blue, for a joke, or anything else to see how the `ollama` library works.",
    ),
    (
        ("你好",),
        "你好！我是代替大语言模型的练习服务器。你可以问我“为什么天空是蓝色的？”，"
        "或者让我讲个笑话，看看 `ollama` 库是怎么工作的。",
    ),
]

UNLABELLED: dict[tuple[str, ...], str] = {
    ("haiku",): "Quiet server hums,\nanswers written long ago,\nready when you ask.",
    ("hello",): "Hello! I am an AI assistant. Ask me why the sky is blue, for a joke, or "
    "anything else you would like to know.",
    ("hi",): "Hi! I am an AI assistant. Ask me why the sky is blue, for a joke, or anything "
    "else you would like to know.",
    ("你好",): "你好！我是一个 AI 助手。你可以问我“为什么天空是蓝色的？”，或者让我讲个笑话，"
    "有什么问题都可以问我。",
}

# The answer to a prompt the book has nothing for, when posing: a real model never says it is
# not one, so this reads like a small model asking for more ("{short}": the prompt, cut short).
UNKNOWN_EN = (
    "I'm not sure I can answer “{short}” well. Could you tell me a little more about what you "
    "would like to know? Meanwhile, I can explain why the sky is blue."
)
UNKNOWN_ZH = (
    "我不太确定该怎么回答“{short}”。能再多说一点你想了解什么吗？我也可以讲讲天空为什么是蓝色的。"
)

OPENERS_EN = ("", "Sure! ", "Good question. ", "Here is the short version: ", "Happy to help. ")
OPENERS_ZH = ("", "好的！", "好问题。", "简单来说：", "很乐意回答。")
