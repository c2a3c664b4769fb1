"""Caches keyed by learner text are bounded by bytes, not by count (issue 13)."""

from __future__ import annotations

from ollama_nb.server import promptpools
from ollama_nb.server.bytecache import lru_by_bytes


def test_the_total_stays_under_the_budget_and_the_oldest_go_first():
    calls = []

    @lru_by_bytes(10_000, max_entry=5_000)
    def length(text: str) -> int:
        calls.append(text)
        return len(text)

    texts = [f"{i:04d}" + "x" * 400 for i in range(50)]  # about 1.7 KB charged each
    for text in texts:
        assert length(text) == 404
    assert length.cache_bytes() <= 10_000
    calls.clear()
    length(texts[-1])  # the newest is kept
    assert calls == []
    length(texts[0])  # the oldest went
    assert calls == [texts[0]]


def test_a_text_too_big_for_one_entry_is_computed_but_never_kept():
    @lru_by_bytes(1 << 20, max_entry=1_000)
    def upper(text: str) -> str:
        return text.upper()

    assert upper("a" * 10_000) == "A" * 10_000
    assert upper.cache_bytes() == 0
    assert upper("small") == "SMALL"
    assert 0 < upper.cache_bytes() < 1_000


def test_many_big_prompts_leave_the_prompt_analysis_cache_within_its_budget():
    """Sixty distinct 400 KB prompts (24 MB of text) keep at most the 16 MB budget."""
    promptpools._analyse.cache_clear()
    for i in range(60):
        promptpools._analyse(f"Request {i}: give a JSON object with a name. " + "word " * 20_000)
    assert 0 < promptpools._analyse.cache_bytes() <= 16 << 20
