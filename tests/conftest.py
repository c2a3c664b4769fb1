"""Fixtures for unit tests: a fresh practice server per test module, and clients bound to it."""

from __future__ import annotations

import pytest

from ollama_nb.server import PracticeServer


@pytest.fixture
def server():
    with PracticeServer(port=0) as srv:
        yield srv


@pytest.fixture
def client(server):
    import ollama

    return ollama.Client(host=server.url)


@pytest.fixture
def anyio_backend():
    return "asyncio"
