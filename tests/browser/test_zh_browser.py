"""The Chinese edition's widgets in a real JupyterLab: every label a learner reads is Chinese."""

from __future__ import annotations

import pytest

expect = pytest.importorskip("playwright.sync_api", reason="playwright is not installed").expect

pytestmark = pytest.mark.browser

SKY = "天空为什么是蓝色的？"


def test_the_chat_speaks_chinese(lab_page):
    path = lab_page.lab.write_notebook(
        "browser_chat_zh.ipynb",
        "import ollama_nb\nollama_nb.setup(lang='zh')",
        "from ollama_nb import ChatWidget\nchat = ChatWidget()\nchat",
    )
    lab_page.open(path)
    lab_page.run_all()
    chat = lab_page.page.locator(".ollama-chat")
    expect(chat).to_be_visible(timeout=60_000)
    labels = {"send": "发送", "stop": "停止", "clear": "清空", "export": "导出"}
    for button, label in labels.items():
        expect(chat.locator(f"button.chat-{button}")).to_have_text(label)
    expect(chat.locator(".chat-settings")).to_contain_text("设置")
    box = chat.locator(".chat-input input")
    box.fill(SKY)
    box.press("Enter")
    reply = chat.locator(".chat-assistant").first
    figures = reply.locator(".chat-figures")
    expect(figures).to_contain_text("首个 token 用时", timeout=60_000)
    expect(figures.locator("button.chat-copy")).to_have_text("复制")
    expect(reply).to_contain_text("瑞利散射")
    lab_page.save_screenshot("chat-zh.png", chat)
    lab_page.assert_ran_cleanly()


def test_the_model_manager_speaks_chinese(lab_page):
    path = lab_page.lab.write_notebook(
        "browser_models_zh.ipynb",
        "import ollama_nb\nollama_nb.setup(lang='zh')",
        "from ollama_nb import ModelManager\nmanager = ModelManager()\nmanager",
    )
    lab_page.open(path)
    lab_page.run_all()
    panel = lab_page.page.locator(".ollama-models")
    expect(panel).to_be_visible(timeout=60_000)
    table = panel.locator("table.models-table")
    expect(table.locator('tr[data-model="llama3.1:latest"]')).to_be_visible(timeout=30_000)
    for column in ("名称", "大小", "系列", "参数量", "量化", "修改时间"):
        expect(table.locator("thead")).to_contain_text(column)
    table.locator('tr[data-model="llama3.1:latest"] td').first.click()
    expect(panel.locator(".models-details")).to_contain_text("llama3.1:latest", timeout=30_000)
    lab_page.save_screenshot("models-zh.png", panel)
    lab_page.assert_ran_cleanly()
