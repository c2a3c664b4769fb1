"""The practice server driven by the real `ollama` client, sync and async, as learners use it."""

from __future__ import annotations

import asyncio

import httpx
import ollama
import pytest

SKY_ZH = "为什么天空是蓝色的？"


def test_chat_returns_library_types_and_canned_answer(client):
    response = client.chat(model="llama3.1", messages=[{"role": "user", "content": SKY_ZH}])
    assert isinstance(response, ollama.ChatResponse)
    assert response.message.role == "assistant"
    assert response.message.content.startswith("【练习服务器】")
    assert "瑞利散射" in response.message.content
    assert response.done and response.done_reason == "stop"
    assert response.eval_count > 10 and response.eval_duration > 0
    assert response.total_duration >= response.load_duration + response.eval_duration
    assert response.model == "llama3.1"  # echoed as given, not normalised


def test_chat_is_deterministic(client):
    ask = {"model": "llama3.1", "messages": [{"role": "user", "content": "Why is the sky blue?"}]}
    first, second = client.chat(**ask), client.chat(**ask)
    assert first.message.content == second.message.content
    assert "Rayleigh" in first.message.content
    assert first.message.content.startswith("[practice server]")


def test_streamed_chat_concatenates_to_the_whole_reply(client):
    messages = [{"role": "user", "content": SKY_ZH}]
    whole = client.chat(model="llama3.1", messages=messages).message.content
    chunks = list(client.chat(model="llama3.1", messages=messages, stream=True))
    assert len(chunks) > 20
    assert all(not c.done for c in chunks[:-1]) and chunks[-1].done
    assert "".join(c.message.content for c in chunks) == whole
    assert chunks[-1].eval_count == len(chunks) - 1


def test_history_is_used(client):
    messages = [
        {"role": "user", "content": "My name is Ada."},
        {"role": "assistant", "content": "Nice to meet you."},
        {"role": "user", "content": "What is my name?"},
    ]
    assert "Ada" in client.chat(model="llama3.1", messages=messages).message.content


def test_system_prompt_changes_the_reply(client):
    plain = client.chat(model="llama3.1", messages=[{"role": "user", "content": "hello"}])
    mario = client.chat(
        model="llama3.1",
        messages=[
            {"role": "system", "content": "You are Mario from Super Mario Bros."},
            {"role": "user", "content": "hello"},
        ],
    )
    assert "Mario" in mario.message.content and "Mario" not in plain.message.content


def test_options_num_predict_stop_seed_temperature(client):
    ask = {"model": "llama3.1", "messages": [{"role": "user", "content": "Why is the sky blue?"}]}
    short = client.chat(**ask, options={"num_predict": 5})
    assert short.done_reason == "length" and short.eval_count == 5
    stopped = client.chat(**ask, options={"stop": ["Rayleigh"]})
    assert "Rayleigh" not in stopped.message.content and stopped.done_reason == "stop"
    cold = {
        client.chat(**ask, options={"temperature": 0, "seed": s}).message.content for s in range(5)
    }
    assert len(cold) == 1
    warm = {
        client.chat(**ask, options={"temperature": 1, "seed": s}).message.content for s in range(8)
    }
    assert len(warm) > 1
    same = [
        client.chat(**ask, options={"temperature": 1, "seed": 3}).message.content for _ in range(2)
    ]
    assert same[0] == same[1]


def test_generate_stream_and_context(client):
    response = client.generate(model="llama3.1", prompt="What is 3 plus 5?")
    assert isinstance(response, ollama.GenerateResponse)
    assert "3 + 5 = 8" in response.response and response.context
    parts = list(client.generate(model="llama3.1", prompt=SKY_ZH, stream=True))
    assert (
        "".join(p.response for p in parts)
        == client.generate(model="llama3.1", prompt=SKY_ZH).response
    )
    assert parts[-1].done and parts[-1].context


def test_generate_empty_prompt_loads_and_keep_alive_zero_unloads(client):
    loaded = client.generate(model="llama3.1")
    assert loaded.done_reason == "load"
    assert [m.model for m in client.ps().models] == ["llama3.1:latest"]
    unloaded = client.generate(model="llama3.1", keep_alive=0)
    assert unloaded.done_reason == "unload"
    assert client.ps().models == []


def test_ps_reflects_keep_alive(client):
    client.chat(model="llama3.1", messages=[{"role": "user", "content": "hi"}], keep_alive="1h")
    client.embed(model="nomic-embed-text", input="hi", keep_alive=60)
    running = client.ps().models
    assert [m.model for m in running] == ["llama3.1:latest", "nomic-embed-text:latest"]
    left = (running[0].expires_at - running[1].expires_at).total_seconds()
    assert 3400 < left < 3600


def test_list_show(client):
    models = {m.model: m for m in client.list().models}
    assert set(models) == {"llama3.1:latest", "nomic-embed-text:latest"}
    assert models["llama3.1:latest"].details.parameter_size == "8.0B"
    shown = client.show("llama3.1")
    assert isinstance(shown, ollama.ShowResponse)
    assert shown.capabilities == ["completion", "tools"]
    assert shown.modelinfo["llama.context_length"] == 131072
    assert shown.modelfile.startswith('# Modelfile generated by "ollama show"')


def test_embed_batch_normalised_and_similarity(client):
    texts = ["The sky is blue", "The blue sky at noon", "Pasta with tomato sauce"]
    response = client.embed(model="nomic-embed-text", input=texts)
    assert isinstance(response, ollama.EmbedResponse)
    vectors = response.embeddings
    assert len(vectors) == 3 and all(len(v) == 768 for v in vectors)
    assert all(abs(sum(x * x for x in v) - 1) < 1e-4 for v in vectors)

    def cos(a, b):
        return sum(x * y for x, y in zip(a, b))

    assert cos(vectors[0], vectors[1]) > cos(vectors[0], vectors[2]) + 0.2
    small = client.embed(model="nomic-embed-text", input="The sky is blue", dimensions=64)
    assert len(small.embeddings[0]) == 64
    assert abs(sum(x * x for x in small.embeddings[0]) - 1) < 1e-4
    assert client.embed(model="nomic-embed-text", input=[]).embeddings == []


def test_embed_truncate(client):
    long_text = "word " * 3000
    assert client.embed(model="nomic-embed-text", input=long_text).embeddings
    with pytest.raises(ollama.ResponseError) as err:
        client.embed(model="nomic-embed-text", input=long_text, truncate=False)
    assert err.value.status_code == 400
    assert err.value.error == "the input length exceeds the context length"


def test_legacy_embeddings_not_normalised(client):
    vector = client.embeddings(model="llama3.1", prompt="天空是蓝色的因为瑞利散射").embedding
    assert len(vector) == 4096
    assert abs(sum(x * x for x in vector) - 1) > 0.1


def test_pull_streams_layers_then_lists_model(client):
    steps = list(client.pull("llama3.2", stream=True))
    statuses = [s.status for s in steps]
    assert statuses[0] == "pulling manifest" and statuses[-1] == "success"
    assert statuses[-3:-1] == ["verifying sha256 digest", "writing manifest"]
    layer = [s for s in steps if s.digest]
    assert layer[0].status == f"pulling {layer[0].digest[7:19]}"
    assert layer[-1].completed == layer[-1].total
    assert "llama3.2:latest" in {m.model for m in client.list().models}
    assert client.pull("qwen3:0.6b").status == "success"


def test_copy_push_delete(client):
    assert client.copy("llama3.1", "user/llama3.1").status == "success"
    pushed = [p.status for p in client.push("user/llama3.1", stream=True)]
    assert pushed[0] == "retrieving manifest" and pushed[-2:] == ["pushing manifest", "success"]
    assert client.delete("user/llama3.1").status == "success"
    assert "user/llama3.1:latest" not in {m.model for m in client.list().models}
    # what was pushed can be pulled back
    assert client.pull("user/llama3.1").status == "success"


def test_create_from_and_system(client):
    steps = [
        p.status
        for p in client.create(
            model="example",
            from_="llama3.1",
            system="你是超级马里奥兄弟中的马里奥。",
            parameters={"temperature": 0.2},
            stream=True,
        )
    ]
    assert any(s.startswith("using existing layer sha256:") for s in steps)
    assert any(s.startswith("creating new layer sha256:") for s in steps)
    assert steps[-2:] == ["writing manifest", "success"]
    reply = client.chat(model="example", messages=[{"role": "user", "content": "你好"}])
    assert "马里奥" in reply.message.content
    assert client.show("example").details.parent_model == "llama3.1:latest"


def test_blobs(client, tmp_path):
    path = tmp_path / "adapter.bin"
    path.write_bytes(b"hello adapter")
    digest = client.create_blob(path)
    assert digest.startswith("sha256:")
    assert client.create_blob(path) == digest  # already there: 200
    with httpx.Client(base_url=str(client._client.base_url)) as raw:
        assert raw.head(f"/api/blobs/{digest}").status_code == 200
        bad = raw.post(f"/api/blobs/sha256:{'0' * 64}", content=b"x")
        assert bad.status_code == 400 and bad.json()["error"].startswith("digest mismatch")


# -- errors, exactly as Ollama words them ---------------------------------------------------
@pytest.mark.parametrize(
    ("call", "status", "text"),
    [
        (
            lambda c: c.chat(model="nope", messages=[{"role": "user", "content": "x"}]),
            404,
            "model 'nope' not found",
        ),
        (lambda c: c.generate(model="nope", prompt="x"), 404, "model 'nope' not found"),
        (lambda c: c.show("nope"), 404, "model 'nope:latest' not found"),
        (lambda c: c.delete("nope"), 404, "model 'nope' not found"),
        (lambda c: c.copy("nope", "x"), 404, 'model "nope" not found'),
        (
            lambda c: c.embed(model="nope", input="x"),
            404,
            'model "nope" not found, try pulling it first',
        ),
        (
            lambda c: c.embeddings(model="nope", prompt="x"),
            404,
            'model "nope" not found, try pulling it first',
        ),
        (lambda c: c.pull("does-not-exist"), 500, "pull model manifest: file does not exist"),
        (
            lambda c: c.chat(model="nomic-embed-text", messages=[{"role": "user", "content": "x"}]),
            400,
            '"nomic-embed-text" does not support chat',
        ),
        (
            lambda c: c.generate(model="nomic-embed-text", prompt="x"),
            400,
            '"nomic-embed-text" does not support generate',
        ),
        (
            lambda c: c.chat(
                model="llama3.1", messages=[{"role": "user", "content": "x"}], think=True
            ),
            400,
            '"llama3.1" does not support thinking',
        ),
        (lambda c: c.create(model="x", from_="bad name!"), 400, "invalid model name"),
        (lambda c: c.delete("bad name!"), 400, 'name "bad name!" is invalid'),
        (lambda c: c.copy("llama3.1", "bad name!"), 400, 'destination "bad name!" is invalid'),
        (
            lambda c: c.chat(
                model="llama3.1",
                messages=[{"role": "user", "content": "x"}],
                options={"num_predict": "ten"},
            ),
            400,
            'option "num_predict" must be of type integer',
        ),
        (
            lambda c: c.chat(
                model="llama3.1", messages=[{"role": "user", "content": "x"}], keep_alive="10"
            ),
            400,
            'time: missing unit in duration "10"',
        ),
        (
            lambda c: c.push("llama3.1"),
            401,
            "unauthorized: you are not authorized to push to this namespace, "
            "create the model under a namespace you own",
        ),
    ],
)
def test_errors_match_ollama(client, call, status, text):
    with pytest.raises(ollama.ResponseError) as err:
        call(client)
    assert err.value.status_code == status
    assert err.value.error == text


def test_stream_errors_before_first_chunk_have_a_status(client):
    with pytest.raises(ollama.ResponseError) as err:
        for _ in client.chat(
            model="nope", messages=[{"role": "user", "content": "x"}], stream=True
        ):
            pass
    assert err.value.status_code == 404


def test_pull_unknown_model_streams_an_error_line(client):
    stream = client.pull("does-not-exist", stream=True)
    assert next(stream).status == "pulling manifest"
    with pytest.raises(ollama.ResponseError) as err:
        next(stream)
    assert err.value.status_code == -1
    assert err.value.error == "pull model manifest: file does not exist"


def test_legacy_modelfile_create_is_refused(server):
    response = httpx.post(
        f"{server.url}/api/create", json={"model": "m", "modelfile": "FROM llama3.1"}
    )
    assert response.status_code == 400
    assert response.json() == {"error": "neither 'from' or 'files' was specified"}


def test_old_create_signature_fails_in_the_client(client):
    with pytest.raises(TypeError, match="modelfile"):
        client.create(model="example", modelfile="FROM llama3.1")


def test_dead_server_gives_connection_error():
    dead = ollama.Client(host="http://127.0.0.1:9")
    with pytest.raises(ConnectionError, match="Failed to connect to Ollama"):
        dead.chat(model="llama3.1", messages=[{"role": "user", "content": "hi"}])


# -- async ----------------------------------------------------------------------------------
@pytest.mark.anyio
async def test_async_client_every_method(server, tmp_path):
    client = ollama.AsyncClient(host=server.url)
    reply = await client.chat(model="llama3.1", messages=[{"role": "user", "content": SKY_ZH}])
    parts = [
        p
        async for p in await client.chat(
            model="llama3.1", messages=[{"role": "user", "content": SKY_ZH}], stream=True
        )
    ]
    assert "".join(p.message.content for p in parts) == reply.message.content
    assert (await client.generate(model="llama3.1", prompt="hi")).response
    assert len((await client.embed(model="nomic-embed-text", input=["a", "b"])).embeddings) == 2
    assert (await client.embeddings(model="nomic-embed-text", prompt="a")).embedding
    assert (await client.pull("all-minilm")).status == "success"
    assert [p.status async for p in await client.pull("gemma3:270m", stream=True)][-1] == "success"
    assert (await client.copy("gemma3:270m", "me/tiny")).status == "success"
    assert (await client.push("me/tiny")).status == "success"
    assert (
        await client.create(model="tiny2", from_="me/tiny", system="Be brief.")
    ).status == "success"
    assert (await client.show("tiny2")).details.family == "gemma3"
    assert "tiny2:latest" in {m.model for m in (await client.list()).models}
    assert (await client.delete("tiny2")).status == "success"
    assert (await client.ps()).models
    blob = tmp_path / "b.bin"
    blob.write_bytes(b"abc")
    assert (await client.create_blob(blob)).startswith("sha256:")
    with pytest.raises(ollama.ResponseError) as err:
        await client.chat(model="nope", messages=[{"role": "user", "content": "x"}])
    assert err.value.status_code == 404


@pytest.mark.anyio
async def test_fifty_concurrent_streaming_chats(server):
    client = ollama.AsyncClient(host=server.url)
    prompts = [SKY_ZH, "Why is the sky blue?", "Tell me a joke", "What is 6 times 7?", "hello"]
    expected = {
        p: (
            await client.chat(model="llama3.1", messages=[{"role": "user", "content": p}])
        ).message.content
        for p in prompts
    }

    async def one(i: int) -> tuple[str, str]:
        prompt = prompts[i % len(prompts)]
        stream = await client.chat(
            model="llama3.1", messages=[{"role": "user", "content": prompt}], stream=True
        )
        return prompt, "".join([p.message.content async for p in stream])

    results = await asyncio.gather(*(one(i) for i in range(50)))
    assert len(results) == 50
    assert all(text == expected[prompt] for prompt, text in results)
