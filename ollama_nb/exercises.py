"""Exercises for the notebooks: a checker that says what is right or wrong, hints, solutions.

In a notebook::

    answer = ...                                  # the learner replaces ... with code
    ollama_nb.exercises.check("01.1", answer)     # prints "✓ Right: ..." or "✗ Not yet: ..."
    ollama_nb.exercises.hint("01.1")              # a nudge
    ollama_nb.exercises.solution("01.1")          # one way to do it

The checks look at the shape of an answer (types, roles, fields) and, where they need the
server, ask it themselves, so they work on the practice server and on a real Ollama alike.
Solutions are kept here, out of sight, until asked for.
"""

from __future__ import annotations

import inspect
import json
import math
import re
import textwrap
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from .i18n import Messages

__all__ = ["EXERCISES", "Exercise", "NotYet", "check", "hint", "solution", "task"]

RIGHT = "✓ Right: "  # the English prefixes; _t("right") / _t("not_yet") give the learner's
NOT_YET = "✗ Not yet: "
PRACTICE_LABELS = ("[practice server]", "【练习服务器】")
# Everything printed, in English and Chinese (ollama_nb.i18n); tasks and hints are added at the
# end of the module, from the exercises themselves and _ZH.
_t = Messages(
    {
        "unanswered": {
            "en": "replace the ... with your answer, then run the cell again. "
            '(A hint: ollama_nb.exercises.hint("{id}").)',
            "zh": "把 ... 换成你的答案，再运行这个单元格。"
            '（需要提示：ollama_nb.exercises.hint("{id}")。）',
        },
        "right": {
            "en": "✓ Right: ",
            "zh": "✓ 答对了：",
        },
        "not_yet": {
            "en": "✗ Not yet: ",
            "zh": "✗ 还差一点：",
        },
        "raised": {
            "en": "checking your answer raised {kind}: {error}",
            "zh": "检查你的答案时出现了 {kind}：{error}",
        },
        "hint_for": {
            "en": "Hint for {id}: {hint}",
            "zh": "{id} 的提示：{hint}",
        },
        "solution_for": {
            "en": "One solution for {id}:\n\n{solution}",
            "zh": "{id} 的一种参考答案：\n\n{solution}",
        },
        "no_exercise": {
            "en": "no exercise {key!r}; the exercises are {known}",
            "zh": "没有编号为 {key!r} 的练习；现有的练习是 {known}",
        },
        "whole_chat": {
            "en": "that is the whole ChatResponse; the text is in response.message.content (or "
            "response['message']['content']).",
            "zh": "这是整个 ChatResponse；文字在 response.message.content 里（或 "
            "response['message']['content']）。",
        },
        "whole_generate": {
            "en": "that is the whole GenerateResponse; the text is in response.response.",
            "zh": "这是整个 GenerateResponse；文字在 response.response 里。",
        },
        "whole_message": {
            "en": "that is the Message; its text is in .content.",
            "zh": "这是 Message 对象；文字在它的 .content 里。",
        },
        "a_stream": {
            "en": "that is a stream (a generator): loop over it and join each chunk's "
            "chunk['message']['content'].",
            "zh": "这是一个流（生成器）：遍历它，"
            "把每个片段的 chunk['message']['content'] 拼接起来。",
        },
        "should_be_str": {
            "en": "answer is a {kind}; it should be {what} (a str).",
            "zh": "answer 是 {kind}；它应该是{what}（一个 str）。",
        },
        "empty_str": {
            "en": "answer is an empty string; it should hold the model's reply.",
            "zh": "answer 是空字符串；它应该存放模型的回复。",
        },
        "message_kind": {
            "en": "a message is a {kind}; each message should be a dict such as {{'role': 'user', "
            "'content': '...'}}.",
            "zh": "有一条消息是 {kind}；每条消息都应该是字典，例如 {{'role': 'user', 'content': "
            "'...'}}。",
        },
        "should_be_messages": {
            "en": "answer is a {kind}; it should be a list of messages.",
            "zh": "answer 是 {kind}；它应该是一个消息列表。",
        },
        "unknown_role": {
            "en": "role {role!r} is not one Ollama knows; use 'system', 'user', 'assistant' or "
            "'tool'.",
            "zh": "Ollama 不认识角色 {role!r}；请用 'system'、'user'、'assistant' 或 'tool'。",
        },
        "should_be_number": {
            "en": "answer is a {kind}; it should be a number.",
            "zh": "answer 是 {kind}；它应该是一个数字。",
        },
        "not_finite": {
            "en": "answer is {answer}; it should be a finite number.",
            "zh": "answer 是 {answer}；它应该是一个有限的数。",
        },
        "what.reply": {
            "en": "the reply's text",
            "zh": "回复的文字",
        },
        "what.joined": {
            "en": "the whole reply, joined",
            "zh": "拼接好的完整回复",
        },
        "what.final": {
            "en": "the final reply's text",
            "zh": "最终回复的文字",
        },
        "what.thinking": {
            "en": "the thinking text",
            "zh": "思考过程的文字",
        },
        "what.each": {
            "en": "each reply's text",
            "zh": "每条回复的文字",
        },
        "00.1.question": {
            "en": "that is the question; answer should be the model's reply to it.",
            "zh": "这是问题本身；answer 应该是模型对它的回复。",
        },
        "00.1.noollama": {
            "en": "the reply does not mention Ollama: did you ask 'What is Ollama?'?",
            "zh": "回复里没有提到 Ollama：你问的是 'What is Ollama?' 吗？",
        },
        "07.2.nomessages": {
            "en": "pass your conversation too: check('07.2', answer, messages=messages).",
            "zh": "把对话也传进来：check('07.2', answer, messages=messages)。",
        },
        "07.2.nocall": {
            "en": "messages holds no tool call: append response.message after the first chat.",
            "zh": "messages 里没有工具调用：第一次 chat 之后把 response.message 追加进去。",
        },
        "07.2.noresult": {
            "en": "messages holds no tool result of 42: run the tool and append its result.",
            "zh": "messages 里没有值为 42 的工具结果：运行工具并把结果追加进去。",
        },
        "08.2.city": {
            "en": "that City is {name!r}, {country!r}: ask about Paris, France.",
            "zh": "这个 City 是 {name!r}、{country!r}：请问的是法国巴黎。",
        },
        "08.2.number": {
            "en": "population {population} is not the 2102650 the question gave.",
            "zh": "population 是 {population}，不是题目给出的 2102650。",
        },
        "00.1.ok": {
            "en": "that is the reply's text ({n} characters).",
            "zh": "这就是回复的文字（{n} 个字符）。",
        },
        "00.2.sky": {
            "en": "that is still the answer about the sky: change the question's content.",
            "zh": "这还是关于天空的回答：请改一下问题的内容。",
        },
        "00.2.ok": {
            "en": "a new question, a new answer: only the message content changed.",
            "zh": "新问题，新回答：只改了消息的内容。",
        },
        "01.1.count": {
            "en": "the list has {n} message(s); it needs a system and a user one.",
            "zh": "列表里有 {n} 条消息；需要一条 system 消息和一条 user 消息。",
        },
        "01.1.first": {
            "en": "the first message has role {role!r}; make it 'system'.",
            "zh": "第一条消息的角色是 {role!r}；请改成 'system'。",
        },
        "01.1.pirate": {
            "en": "the system message should tell the model to be a pirate.",
            "zh": "system 消息应该让模型扮演海盗。",
        },
        "01.1.last": {
            "en": "the last message has role {role!r}; the user should ask last.",
            "zh": "最后一条消息的角色是 {role!r}；最后提问的应该是 user。",
        },
        "01.1.joke": {
            "en": "the user message should ask for a joke.",
            "zh": "user 消息应该请模型讲个笑话。",
        },
        "01.1.ok": {
            "en": "pass this list as messages= and the reply comes from a pirate.",
            "zh": "把这个列表作为 messages= 传入，回复就出自一位海盗之口。",
        },
        "01.2.count": {
            "en": "the history has {n} user/assistant messages; it needs 4: your name, the reply, "
            "the question, the reply.",
            "zh": "对话历史里有 {n} 条 user/assistant 消息；"
            "需要 4 条：你的名字、回复、提问、回复。",
        },
        "01.2.turns": {
            "en": "message {i} has role {role!r} where {expected!r} belongs: user and assistant "
            "take turns.",
            "zh": "第 {i} 条消息的角色是 {role!r}，这里应该是 {expected!r}："
            "user 和 assistant 轮流发言。",
        },
        "01.2.noname": {
            "en": "no user message says 'My name is ...'.",
            "zh": "没有一条 user 消息说 'My name is ...'（或“我叫……”）。",
        },
        "01.2.forgot": {
            "en": "the last reply does not mention {name}: was the whole history sent?",
            "zh": "最后一条回复没有提到 {name}：你发送了完整的对话历史吗？",
        },
        "01.2.ok": {
            "en": "the model remembers {name} because every call sends the whole history.",
            "zh": "模型记得 {name}，因为每次调用都发送了完整的对话历史。",
        },
        "01.3.given": {
            "en": 'pass the response too: check("01.3", answer, response=response).',
            "zh": '把 response 也传进来：check("01.3", answer, response=response)。',
        },
        "01.3.ok": {
            "en": "{value:.1f} tokens/s ({count} tokens in {seconds:.2f} s).",
            "zh": "每秒 {value:.1f} 个 token（{seconds:.2f} 秒生成了 {count} 个 token）。",
        },
        "01.3.per_ns": {
            "en": "that is tokens per nanosecond: durations are in nanoseconds, so * 1e9.",
            "zh": "这是每纳秒的 token 数：时长以纳秒（nanosecond）为单位，所以要 * 1e9。",
        },
        "01.3.total": {
            "en": "you divided by total_duration, which includes loading the model and reading "
            "the prompt; use eval_duration.",
            "zh": "你除以的是 total_duration，它还包括加载模型和读取提示词的时间；"
            "请用 eval_duration。",
        },
        "01.3.inverse": {
            "en": "that is time per token; tokens per second is eval_count / seconds.",
            "zh": "这是每个 token 花的时间；每秒 token 数是 eval_count / 秒数。",
        },
        "01.3.expected": {
            "en": "expected about {expected:.1f}; use eval_count and eval_duration.",
            "zh": "应该约为 {expected:.1f}；请用 eval_count 和 eval_duration。",
        },
        "01.4.list": {
            "en": "that is a list of chunks; join their ['message']['content'] into one str.",
            "zh": "这是片段列表；把它们的 ['message']['content'] 拼成一个 str。",
        },
        "01.4.ok": {
            "en": "the streamed pieces make the whole reply ({n} characters).",
            "zh": "流式输出的片段拼成了完整的回复（{n} 个字符）。",
        },
        "02.1.mario": {
            "en": "the reply shows no sign of Mario: pass system='...' to generate.",
            "zh": "回复里看不出马里奥的影子：给 generate 传入 system='...'。",
        },
        "02.1.ok": {
            "en": "the system prompt sets who answers.",
            "zh": "系统提示词决定了由谁来回答。",
        },
        "02.2.notjson": {
            "en": "that text is not JSON: did you pass format='json'?",
            "zh": "这段文字不是 JSON：你传了 format='json' 吗？",
        },
        "02.2.text": {
            "en": "that is the JSON text; parse it with json.loads(...) to get a dict.",
            "zh": "这是 JSON 文本；用 json.loads(...) 解析它才能得到 dict。",
        },
        "02.2.whole": {
            "en": "that is the whole response; parse response.response with json.loads.",
            "zh": "这是整个响应；请用 json.loads 解析 response.response。",
        },
        "should_be_dict": {
            "en": "answer is a {kind}; it should be a dict.",
            "zh": "answer 是 {kind}；它应该是一个 dict。",
        },
        "02.2.ok": {
            "en": "a dict with {n} key(s): {keys}.",
            "zh": "一个有 {n} 个键的 dict：{keys}。",
        },
        "02.3.kind": {
            "en": "answer is a {kind}; write 'chat' or 'generate'.",
            "zh": "answer 是 {kind}；请写 'chat' 或 'generate'。",
        },
        "02.3.ok": {
            "en": "chat takes messages with roles; generate takes one prompt (and system).",
            "zh": "chat 接收带角色的消息；generate 只接收一个提示词（以及 system）。",
        },
        "02.3.generate": {
            "en": "generate takes a single prompt; which one takes messages=?",
            "zh": "generate 只接收一个提示词；哪个函数接收 messages=？",
        },
        "02.3.other": {
            "en": "write 'chat' or 'generate'.",
            "zh": "请写 'chat' 或 'generate'。",
        },
        "03.1.kind": {
            "en": "answer is a {kind}; it should be a list of names.",
            "zh": "answer 是 {kind}；它应该是一个名字列表。",
        },
        "03.1.models": {
            "en": "the list holds models, not names: take m.model of each.",
            "zh": "列表里放的是模型对象而不是名字：取每个的 m.model。",
        },
        "03.1.ok": {
            "en": "{n} local model(s).",
            "zh": "本地有 {n} 个模型。",
        },
        "03.1.missing": {
            "en": "missing {names}",
            "zh": "缺少 {names}",
        },
        "03.1.extra": {
            "en": "not local: {names}",
            "zh": "不在本地：{names}",
        },
        "03.1.parts": {
            "en": "{parts}.",
            "zh": "{parts}。",
        },
        "03.1.sep": {
            "en": "; ",
            "zh": "；",
        },
        "03.2.kind": {
            "en": "answer is a {kind}; it should be the model's name.",
            "zh": "answer 是 {kind}；它应该是模型的名字。",
        },
        "03.2.none": {
            "en": "the server has no model {answer!r} ({error}).",
            "zh": "服务器上没有模型 {answer!r}（{error}）。",
        },
        "03.2.nosystem": {
            "en": "the model has no system prompt: pass system='You are a pirate.'.",
            "zh": "这个模型没有系统提示词：请传入 system='You are a pirate.'。",
        },
        "03.2.system": {
            "en": "its system prompt is {system!r}; it should make a pirate.",
            "zh": "它的系统提示词是 {system!r}；应该让模型扮演海盗。",
        },
        "03.2.ok": {
            "en": "{answer} exists with a pirate system prompt. Tidy up: ollama.delete({answer!r})."
            "{answer} exists with a pirate system prompt. Tidy up: ollama.delete({answer!r}).",
            "zh": "{answer} 已经创建，带着海盗的系统提示词。记得清理：ollama.delete({answer!r})。",
        },
        "03.3.ok": {
            "en": "{value:.2f} GB.",
            "zh": "{value:.2f} GB。",
        },
        "03.3.bytes": {
            "en": "that is in bytes; divide by 1e9 for GB.",
            "zh": "这是字节数（bytes）；除以 1e9 才是 GB。",
        },
        "03.3.gib": {
            "en": "{value:.2f} GiB (2**30 bytes); Ollama's GB are 10**9 bytes: {gb:.2f}.",
            "zh": "{value:.2f} GiB（2**30 字节）；Ollama 的 GB 是 10**9 字节：{gb:.2f}。",
        },
        "03.3.expected": {
            "en": "expected about {gb:.2f}; add up m.size for every local model.",
            "zh": "应该约为 {gb:.2f}；把每个本地模型的 m.size 加起来。",
        },
        "04.1.kind": {
            "en": "answer is a {kind}; it should be the function itself (cosine).",
            "zh": "answer 是 {kind}；它应该是函数本身（cosine）。",
        },
        "04.1.lengths": {
            "en": " (did you divide by both lengths?)",
            "zh": "（你除以两个向量的长度了吗？）",
        },
        "04.1.wrong": {
            "en": "cosine({u}, {v}) gave {got:.4f}, expected {expected}{hint}.",
            "zh": "cosine({u}, {v}) 得到 {got:.4f}，应该是 {expected}{hint}。",
        },
        "04.1.ok": {
            "en": "1 for the same direction, 0 at right angles, -1 for opposite ones.",
            "zh": "方向相同为 1，互相垂直为 0，方向相反为 -1。",
        },
        "04.2.kind": {
            "en": "answer is a {kind}; it should be the function itself (search).",
            "zh": "answer 是 {kind}；它应该是函数本身（search）。",
        },
        "04.2.wrong": {
            "en": "search({query!r}, ...) returned {got!r}; expected {expected!r}.",
            "zh": "search({query!r}, ...) 返回了 {got!r}；应该是 {expected!r}。",
        },
        "04.2.ok": {
            "en": "the nearest document by cosine similarity wins.",
            "zh": "余弦相似度最高的文档胜出。",
        },
        "05.1.async": {
            "en": "that is an AsyncClient; this exercise asks for the synchronous Client.",
            "zh": "这是 AsyncClient；这道练习要的是同步的 Client。",
        },
        "05.1.kind": {
            "en": "answer is a {kind}; it should be an ollama.Client.",
            "zh": "answer 是 {kind}；它应该是一个 ollama.Client。",
        },
        "05.1.host": {
            "en": "it points at {base}, not {host}: pass host=ollama_nb.HOST.",
            "zh": "它指向 {base}，而不是 {host}：请传入 host=ollama_nb.HOST。",
        },
        "05.1.timeout": {
            "en": "its timeout is {timeout}; pass timeout=30.",
            "zh": "它的超时是 {timeout}；请传入 timeout=30。",
        },
        "05.1.ok": {
            "en": "a client with its own host and timeout.",
            "zh": "一个有自己的 host 和超时设置的客户端。",
        },
        "05.2.await": {
            "en": "that is still awaitable: write answer = await asyncio.gather(...).",
            "zh": "它还在等待 await：请写 answer = await asyncio.gather(...)。",
        },
        "05.2.kind": {
            "en": "answer is a {kind}; it should be a list of three replies.",
            "zh": "answer 是 {kind}；它应该是包含三条回复的列表。",
        },
        "05.2.coroutines": {
            "en": "the list holds coroutines: await asyncio.gather(*coroutines).",
            "zh": "列表里放的是协程：请 await asyncio.gather(*coroutines)。",
        },
        "05.2.count": {
            "en": "the list has {n} item(s); ask three questions.",
            "zh": "列表里有 {n} 项；请问三个问题。",
        },
        "05.2.ok": {
            "en": "three replies, requested at the same time, in the order asked.",
            "zh": "三条回复，同时请求，按提问的顺序排列。",
        },
        "06.1.kind": {
            "en": "answer is a {kind}; it should be the function (safe_chat).",
            "zh": "answer 是 {kind}；它应该是函数（safe_chat）。",
        },
        "06.1.raised": {
            "en": "it raised ResponseError ({error}); catch it and return e.error.",
            "zh": "它抛出了 ResponseError（{error}）；请捕获它并返回 e.error。",
        },
        "06.1.missing": {
            "en": "for a missing model it returned {got!r}; return e.error.",
            "zh": "模型不存在时它返回了 {got!r}；请返回 e.error。",
        },
        "06.1.ok": {
            "en": "a missing model gives {got!r} instead of an exception.",
            "zh": "模型不存在时得到的是 {got!r}，而不是异常。",
        },
        "06.2.kind": {
            "en": "answer is a {kind}; it should be the function (with_retries).",
            "zh": "answer 是 {kind}；它应该是函数（with_retries）。",
        },
        "06.2.result": {
            "en": "after two 503 errors it returned {got!r}; return what call() returns.",
            "zh": "两次 503 错误之后它返回了 {got!r}；请返回 call() 的返回值。",
        },
        "06.2.calls": {
            "en": "it called call() {n} times; two failures then success is 3.",
            "zh": "它调用了 call() {n} 次；失败两次再成功一次，应该是 3 次。",
        },
        "06.2.attempts": {
            "en": "with attempts=5 it called call() {n} times.",
            "zh": "attempts=5 时它调用了 call() {n} 次。",
        },
        "06.2.reraise": {
            "en": "when every attempt fails, re-raise the last error.",
            "zh": "每次尝试都失败时，请重新抛出最后一个错误。",
        },
        "06.2.404": {
            "en": "a 404 will not go away by waiting: re-raise it at once.",
            "zh": "404 错误等多久也不会消失：请立即重新抛出。",
        },
        "06.2.swallowed": {
            "en": "a 404 should be raised, not swallowed.",
            "zh": "404 错误应该抛出，而不是悄悄吞掉。",
        },
        "06.2.ok": {
            "en": "busy errors are retried with a growing wait; others fail fast.",
            "zh": "服务器忙的错误会在越来越长的等待后重试；其他错误立即失败。",
        },
        "07.1.kind": {
            "en": "answer is a {kind}; it should be the function itself.",
            "zh": "answer 是 {kind}；它应该是函数本身。",
        },
        "07.1.wrong": {
            "en": "multiply_two_numbers(6, 7) returned {got!r}, not 42.",
            "zh": "multiply_two_numbers(6, 7) 返回了 {got!r}，而不是 42。",
        },
        "07.1.nodoc": {
            "en": "the tool has no description: add a docstring.",
            "zh": "这个工具没有描述：请加一个 docstring。",
        },
        "07.1.params": {
            "en": "its parameters are {params}; they should be a and b.",
            "zh": "它的参数是 {params}；应该是 a 和 b。",
        },
        "07.1.type": {
            "en": "parameter {name} has type {type!r}; annotate it as int.",
            "zh": "参数 {name} 的类型是 {type!r}；请标注为 int。",
        },
        "07.1.paramdoc": {
            "en": "parameter {name} has no description: list it under Args:.",
            "zh": "参数 {name} 没有描述：请在 Args: 下写出它。",
        },
        "07.1.ok": {
            "en": "the model sees a tool named {name} with integer parameters a and b.",
            "zh": "模型看到的是名为 {name} 的工具，带有整数参数 a 和 b。",
        },
        "07.2.no42": {
            "en": "the final reply does not say 42: did you send the tool's result back?",
            "zh": "最终回复里没有 42：你把工具的结果发回给模型了吗？",
        },
        "07.2.ok": {
            "en": "the model asked for the tool, you ran it, and it answered with the result.",
            "zh": "模型请求调用工具，你运行了它，模型再根据结果作答。",
        },
        "08.1.kind": {
            "en": "answer is a {kind}; it should be the class City (a BaseModel).",
            "zh": "answer 是 {kind}；它应该是 City 类（一个 BaseModel）。",
        },
        "08.1.nofield": {
            "en": "City has no field {name!r}.",
            "zh": "City 没有字段 {name!r}。",
        },
        "08.1.annotation": {
            "en": "{name} is annotated {annotation!r}; use {kind}.",
            "zh": "{name} 的类型标注是 {annotation!r}；请用 {kind}。",
        },
        "08.1.ok": {
            "en": "its JSON schema requires {fields}.",
            "zh": "它的 JSON schema 要求这些字段：{fields}。",
        },
        "08.2.text": {
            "en": "that is the JSON text; turn it into a City with City.model_validate_json.",
            "zh": "这是 JSON 文本；用 City.model_validate_json 把它变成 City 对象。",
        },
        "08.2.dict": {
            "en": "that is a dict; City.model_validate_json(...) gives a City object.",
            "zh": "这是 dict；City.model_validate_json(...) 才会得到 City 对象。",
        },
        "08.2.kind": {
            "en": "answer is a {kind}; it should be a City object.",
            "zh": "answer 是 {kind}；它应该是一个 City 对象。",
        },
        "08.2.missing": {
            "en": "the object has no {fields}.",
            "zh": "这个对象没有 {fields}。",
        },
        "08.2.population": {
            "en": "population should be an int.",
            "zh": "population 应该是 int。",
        },
        "08.2.ok": {
            "en": "a validated {kind}: {name}, {country}.",
            "zh": "一个通过校验的 {kind}：{name}，{country}。",
        },
        "09.1.none": {
            "en": "that is None: pass think=True and use a thinking model (qwen3:0.6b).",
            "zh": "这是 None：请传入 think=True，并使用思考模型（qwen3:0.6b）。",
        },
        "09.1.ok": {
            "en": "the model's reasoning, {n} characters, kept apart from its answer.",
            "zh": "这是模型的思考过程，共 {n} 个字符，和它的回答分开存放。",
        },
        "09.2.blind": {
            "en": "that reply names nothing in the picture (a red square, a blue circle, a "
            "yellow triangle): send the image with the message ('images': "
            "['images/shapes.png']) to a vision model.",
            "zh": "这个回答没有提到图片里的任何东西（红色正方形、蓝色圆形、黄色三角形）："
            "请把图片随消息一起发送（'images': ['images/shapes.png']），并使用视觉模型。",
        },
        "09.2.ok": {
            "en": "the vision model answered about the picture ({n} characters).",
            "zh": "视觉模型回答了图片里的内容（{n} 个字符）。",
        },
        "task_for": {
            "en": "Exercise {id}: {task}",
            "zh": "练习 {id}：{task}",
        },
    }
)


class NotYet(Exception):
    """Raised by a checker with what to fix."""


@dataclass(frozen=True)
class Exercise:
    """One exercise: the task, a hint, a solution (code that sets `answer`) and a checker.

    ``given`` names the notebook variables that ``check`` needs besides the answer, in the
    order the notebook passes them as keywords (e.g. ``response=response``).
    """

    id: str
    task: str
    hint: str
    solution: str
    checker: Callable[..., str]
    given: tuple[str, ...] = field(default=())


EXERCISES: dict[str, Exercise] = {}


def exercise(id: str, task: str, hint: str, solution: str, given: tuple[str, ...] = ()):
    def register(checker: Callable[..., str]) -> Callable[..., str]:
        EXERCISES[id] = Exercise(id, task, hint, textwrap.dedent(solution).strip(), checker, given)
        return checker

    return register


def _find(exercise_id: str) -> Exercise:
    key = str(exercise_id).strip()
    if key not in EXERCISES:
        known = ", ".join(sorted(EXERCISES))
        raise KeyError(_t("no_exercise", key=key, known=known))
    return EXERCISES[key]


def check(exercise_id: str, answer: Any = ..., **given: Any) -> None:
    """Check `answer` for exercise `exercise_id` and print what is right or what to fix."""
    ex = _find(exercise_id)
    if answer is ...:
        print(_t("not_yet") + _t("unanswered", id=ex.id))
        return
    try:
        message = ex.checker(answer, **given)
    except NotYet as exc:
        print(_t("not_yet") + str(exc))
    except Exception as exc:  # a broken answer must never break the checker's report
        print(_t("not_yet") + _t("raised", kind=type(exc).__name__, error=exc))
    else:
        print(_t("right") + message)


def hint(exercise_id: str) -> None:
    """Print the hint for an exercise."""
    ex = _find(exercise_id)
    print(_t("hint_for", id=ex.id, hint=_t(f"{ex.id}.hint")))


def solution(exercise_id: str) -> None:
    """Print one solution for an exercise (code that sets `answer`)."""
    ex = _find(exercise_id)
    print(_t("solution_for", id=ex.id, solution=ex.solution))


# -- helpers ----------------------------------------------------------------------------------
def _ollama():
    import ollama

    return ollama


def _model() -> str:
    import ollama_nb

    return ollama_nb.MODEL


def _is_practice(text: str) -> bool:
    return text.lstrip().startswith(PRACTICE_LABELS)


def _kind(value: Any) -> str:
    return type(value).__name__


def _reply_text(answer: Any, what: str = "what.reply") -> str:
    """The answer as a non-empty str, or NotYet saying where the text is."""
    ollama = _ollama()
    if isinstance(answer, ollama.ChatResponse):
        raise NotYet(_t("whole_chat"))
    if isinstance(answer, ollama.GenerateResponse):
        raise NotYet(_t("whole_generate"))
    if isinstance(answer, ollama.Message):
        raise NotYet(_t("whole_message"))
    if isinstance(answer, Iterator) or inspect.isgenerator(answer):
        raise NotYet(_t("a_stream"))
    if not isinstance(answer, str):
        raise NotYet(_t("should_be_str", kind=_kind(answer), what=_t(what) if what in _t else what))
    if not answer.strip():
        raise NotYet(_t("empty_str"))
    return answer


def _role_content(message: Any) -> tuple[str, str]:
    if isinstance(message, Mapping):
        return str(message.get("role", "")), str(message.get("content") or "")
    role, content = getattr(message, "role", None), getattr(message, "content", None)
    if role is None:
        raise NotYet(_t("message_kind", kind=_kind(message)))
    return str(role), str(content or "")


def _messages(answer: Any) -> list[tuple[str, str]]:
    if isinstance(answer, (str, bytes)) or not isinstance(answer, Iterable):
        raise NotYet(_t("should_be_messages", kind=_kind(answer)))
    pairs = [_role_content(m) for m in answer]
    for role, _ in pairs:
        if role not in ("system", "user", "assistant", "tool"):
            raise NotYet(_t("unknown_role", role=role))
    return pairs


def _close(a: float, b: float, rel: float = 0.01) -> bool:
    return math.isclose(a, b, rel_tol=rel, abs_tol=1e-9)


def _number(answer: Any) -> float:
    if isinstance(answer, bool) or not isinstance(answer, (int, float)):
        raise NotYet(_t("should_be_number", kind=_kind(answer)))
    if not math.isfinite(answer):
        raise NotYet(_t("not_finite", answer=answer))
    return float(answer)


# -- 00 start here ----------------------------------------------------------------------------
@exercise(
    "00.1",
    "Ask the model 'What is Ollama?' with ollama.chat and put the text of its reply in answer.",
    "Copy the first chat cell, change the question, and take response['message']['content'].",
    """
    response = ollama.chat(model=ollama_nb.MODEL, messages=[
        {'role': 'user', 'content': 'What is Ollama?'},
    ])
    answer = response['message']['content']
    """,
)
def _check_00_1(answer: Any) -> str:
    text = _reply_text(answer)
    if text.strip().rstrip("?？").lower() == "what is ollama":
        raise NotYet(_t("00.1.question"))
    if "ollama" not in text.lower():
        raise NotYet(_t("00.1.noollama"))
    return _t("00.1.ok", n=len(text))


@exercise(
    "00.2",
    "Ask 为什么海水是咸的？ (why is the sea salty?) and put the text of the reply in answer.",
    "Only the 'content' of the user message changes; the rest of the call stays the same.",
    """
    response = ollama.chat(model=ollama_nb.MODEL, messages=[
        {'role': 'user', 'content': '为什么海水是咸的？'},
    ])
    answer = response['message']['content']
    """,
)
def _check_00_2(answer: Any) -> str:
    text = _reply_text(answer)
    if "瑞利" in text or "Rayleigh" in text:
        raise NotYet(_t("00.2.sky"))
    return _t("00.2.ok")


# -- 01 chat ----------------------------------------------------------------------------------
@exercise(
    "01.1",
    "Build a messages list: a system message that makes the model a pirate, then a user "
    "message asking for a joke.",
    "Two dicts, each with 'role' and 'content'; the system message comes first.",
    """
    answer = [
        {'role': 'system', 'content': 'You are a pirate. Answer like one.'},
        {'role': 'user', 'content': 'Tell me a joke.'},
    ]
    """,
)
def _check_01_1(answer: Any) -> str:
    pairs = _messages(answer)
    if len(pairs) < 2:
        raise NotYet(_t("01.1.count", n=len(pairs)))
    if pairs[0][0] != "system":
        raise NotYet(_t("01.1.first", role=pairs[0][0]))
    if not re.search(r"pirate|海盗", pairs[0][1], re.IGNORECASE):
        raise NotYet(_t("01.1.pirate"))
    if pairs[-1][0] != "user":
        raise NotYet(_t("01.1.last", role=pairs[-1][0]))
    if not re.search(r"joke|笑话", pairs[-1][1], re.IGNORECASE):
        raise NotYet(_t("01.1.joke"))
    return _t("01.1.ok")


_NAME = re.compile(r"my name is\s+([^\s,.!?]+)|我叫([^\s，。,.!！?？]+)", re.IGNORECASE)


@exercise(
    "01.2",
    "Tell the model your name, add its reply to the history, then ask 'What is my name?'. "
    "Put the whole messages list, ending with the model's last reply, in answer.",
    "After each chat call, append response.message (or {'role': 'assistant', 'content': "
    "...}) to messages before adding the next user message.",
    """
    messages = [{'role': 'user', 'content': 'My name is Ada.'}]
    response = ollama.chat(model=ollama_nb.MODEL, messages=messages)
    messages.append(response.message)
    messages.append({'role': 'user', 'content': 'What is my name?'})
    response = ollama.chat(model=ollama_nb.MODEL, messages=messages)
    messages.append(response.message)
    answer = messages
    """,
)
def _check_01_2(answer: Any) -> str:
    pairs = [p for p in _messages(answer) if p[0] != "system"]
    if len(pairs) < 4:
        raise NotYet(_t("01.2.count", n=len(pairs)))
    for i, (role, _) in enumerate(pairs):
        expected = "user" if i % 2 == 0 else "assistant"
        if role != expected:
            raise NotYet(_t("01.2.turns", i=i + 1, role=role, expected=expected))
    names = [m[1] or m[2] for _, text in pairs if (m := _NAME.search(text))]
    if not names:
        raise NotYet(_t("01.2.noname"))
    name = names[0]
    last = pairs[-1][1]
    if name.lower() not in last.lower():
        raise NotYet(_t("01.2.forgot", name=name))
    return _t("01.2.ok", name=name)


@exercise(
    "01.3",
    "From a response, compute the generation speed in tokens per second.",
    "eval_count tokens were generated in eval_duration nanoseconds.",
    """
    response = ollama.chat(model=ollama_nb.MODEL, messages=[
        {'role': 'user', 'content': 'Why is the sky blue?'},
    ])
    answer = response.eval_count / response.eval_duration * 1e9
    """,
    given=("response",),
)
def _check_01_3(answer: Any, response: Any = None) -> str:
    if response is None:
        raise NotYet(_t("01.3.given"))
    value = _number(answer)
    count, eval_ns = response.eval_count, response.eval_duration
    expected = count / eval_ns * 1e9
    if _close(value, expected):
        return _t("01.3.ok", value=value, count=count, seconds=eval_ns / 1e9)
    if _close(value, count / eval_ns):
        raise NotYet(_t("01.3.per_ns"))
    if response.total_duration and _close(value, count / response.total_duration * 1e9):
        raise NotYet(_t("01.3.total"))
    if _close(value, eval_ns / count / 1e9) or _close(value, eval_ns / count):
        raise NotYet(_t("01.3.inverse"))
    raise NotYet(_t("01.3.expected", expected=expected))


@exercise(
    "01.4",
    "Stream a reply with stream=True and join the pieces into one string in answer.",
    "Loop over the stream and join chunk['message']['content'] of every chunk.",
    """
    stream = ollama.chat(model=ollama_nb.MODEL, stream=True, messages=[
        {'role': 'user', 'content': 'Tell me a joke.'},
    ])
    answer = ''.join(chunk['message']['content'] for chunk in stream)
    """,
)
def _check_01_4(answer: Any) -> str:
    if isinstance(answer, list) and answer and not isinstance(answer[0], str):
        raise NotYet(_t("01.4.list"))
    text = _reply_text(answer, "what.joined")
    return _t("01.4.ok", n=len(text))


# -- 02 generate ------------------------------------------------------------------------------
@exercise(
    "02.1",
    "Use ollama.generate with system='You are Mario from Super Mario Bros.' and the prompt "
    "'Say hello.'; put the reply's text in answer.",
    "generate takes system= as a keyword argument, and the text is in response.response.",
    """
    response = ollama.generate(
        model=ollama_nb.MODEL,
        prompt='Say hello.',
        system='You are Mario from Super Mario Bros.',
    )
    answer = response.response
    """,
)
def _check_02_1(answer: Any) -> str:
    text = _reply_text(answer)
    if _is_practice(text) and not re.search(r"mario|马里奥", text, re.IGNORECASE):
        raise NotYet(_t("02.1.mario"))
    return _t("02.1.ok")


@exercise(
    "02.2",
    "Ask ollama.generate for a JSON object with format='json' and put the parsed dict in answer.",
    "format='json' makes the reply text valid JSON; json.loads(response.response) parses it.",
    """
    import json

    response = ollama.generate(
        model=ollama_nb.MODEL,
        prompt='Describe a cat as JSON with the keys name, colour and age.',
        format='json',
    )
    answer = json.loads(response.response)
    """,
)
def _check_02_2(answer: Any) -> str:
    if isinstance(answer, str):
        try:
            json.loads(answer)
        except ValueError:
            raise NotYet(_t("02.2.notjson")) from None
        raise NotYet(_t("02.2.text"))
    if _kind(answer) == "GenerateResponse":
        raise NotYet(_t("02.2.whole"))
    if not isinstance(answer, dict):
        raise NotYet(_t("should_be_dict", kind=_kind(answer)))
    return _t("02.2.ok", n=len(answer), keys=", ".join(map(str, list(answer)[:5])))


@exercise(
    "02.3",
    "Which function keeps a conversation as a list of messages with roles: 'chat' or 'generate'?",
    "One of them takes messages=, the other a single prompt=.",
    """
    answer = 'chat'
    """,
)
def _check_02_3(answer: Any) -> str:
    if not isinstance(answer, str):
        raise NotYet(_t("02.3.kind", kind=_kind(answer)))
    word = answer.strip().lower().removeprefix("ollama.").removesuffix("()")
    if word == "chat":
        return _t("02.3.ok")
    if word == "generate":
        raise NotYet(_t("02.3.generate"))
    raise NotYet(_t("02.3.other"))


# -- 03 models --------------------------------------------------------------------------------
@exercise(
    "03.1",
    "Put the names of the local models in answer, as a list of strings, with today's API.",
    "ollama.list().models holds the models; each has .model (there is no 'name' any more).",
    """
    answer = [m.model for m in ollama.list().models]
    """,
)
def _check_03_1(answer: Any) -> str:
    if isinstance(answer, str) or not isinstance(answer, Iterable):
        raise NotYet(_t("03.1.kind", kind=_kind(answer)))
    answer = list(answer)
    if any(not isinstance(name, str) for name in answer):
        raise NotYet(_t("03.1.models"))
    expected = sorted(m.model for m in _ollama().list().models)
    if sorted(answer) == expected:
        return _t("03.1.ok", n=len(expected))
    missing = sorted(set(expected) - set(answer))
    extra = sorted(set(answer) - set(expected))
    parts = []
    if missing:
        parts.append(_t("03.1.missing", names=", ".join(missing)))
    if extra:
        parts.append(_t("03.1.extra", names=", ".join(extra)))
    raise NotYet(_t("03.1.parts", parts=_t("03.1.sep").join(parts)))


@exercise(
    "03.2",
    "Create a model named 'pirate-llama' from ollama_nb.MODEL whose system prompt is "
    "'You are a pirate.', with today's ollama.create; put its name in answer.",
    "ollama.create(model=..., from_=..., system=...): the Modelfile's FROM and SYSTEM become "
    "from_= and system=.",
    """
    ollama.create(model='pirate-llama', from_=ollama_nb.MODEL, system='You are a pirate.')
    answer = 'pirate-llama'
    """,
)
def _check_03_2(answer: Any) -> str:
    if not isinstance(answer, str):
        raise NotYet(_t("03.2.kind", kind=_kind(answer)))
    ollama = _ollama()
    try:
        shown = ollama.show(answer)
    except ollama.ResponseError as exc:
        raise NotYet(_t("03.2.none", answer=answer, error=exc.error)) from None
    modelfile = shown.modelfile or ""
    system = re.search(r'^SYSTEM\s+(?:"""(.*?)"""|(.*))$', modelfile, re.MULTILINE | re.DOTALL)
    if not system:
        raise NotYet(_t("03.2.nosystem"))
    text = system[1] if system[1] is not None else system[2]
    if "pirate" not in text.lower():
        raise NotYet(_t("03.2.system", system=text.strip()))
    return _t("03.2.ok", answer=answer)


@exercise(
    "03.3",
    "How much disk space do the local models take together, in GB (1 GB = 10**9 bytes)?",
    "Add up m.size over ollama.list().models and divide by 1e9.",
    """
    answer = sum(m.size for m in ollama.list().models) / 1e9
    """,
)
def _check_03_3(answer: Any) -> str:
    value = _number(answer)
    total = sum(m.size for m in _ollama().list().models)
    if _close(value, total / 1e9):
        return _t("03.3.ok", value=value)
    if _close(value, total):
        raise NotYet(_t("03.3.bytes"))
    if _close(value, total / 2**30):
        return _t("03.3.gib", value=value, gb=total / 1e9)
    raise NotYet(_t("03.3.expected", gb=total / 1e9))


# -- 04 embeddings ----------------------------------------------------------------------------
@exercise(
    "04.1",
    "Write cosine(u, v): the cosine similarity of two vectors (lists of numbers).",
    "The dot product divided by the product of the two lengths: "
    "np.dot(u, v) / (np.linalg.norm(u) * np.linalg.norm(v)).",
    """
    import numpy as np

    def cosine(u, v):
        u, v = np.asarray(u, dtype=float), np.asarray(v, dtype=float)
        return float(u @ v / (np.linalg.norm(u) * np.linalg.norm(v)))

    answer = cosine
    """,
)
def _check_04_1(answer: Any) -> str:
    if not callable(answer):
        raise NotYet(_t("04.1.kind", kind=_kind(answer)))
    cases = [
        ([1, 0], [0, 1], 0.0),
        ([1, 2], [2, 4], 1.0),
        ([1, 0], [-1, 0], -1.0),
        ([3, 4], [4, 3], 0.96),
    ]
    for u, v, expected in cases:
        got = float(answer(u, v))
        if not math.isclose(got, expected, abs_tol=1e-6):
            hint = _t("04.1.lengths") if expected == 0.96 else ""
            raise NotYet(_t("04.1.wrong", u=u, v=v, got=got, expected=expected, hint=hint))
    return _t("04.1.ok")


_DOCS = [
    "Llamas are South American animals related to alpacas.",
    "Python is a programming language that is easy to learn.",
    "The sky is blue because of Rayleigh scattering of sunlight.",
    "The sea is salty because rivers carry minerals into it.",
]
_QUERIES = ["Why is the sky blue?", "Which animals live in South America?"]


@exercise(
    "04.2",
    "Write search(query, documents) that returns the document closest in meaning to query, "
    "using ollama.embed and cosine similarity.",
    "Embed the documents and the query in one embed call (input=[query, *documents]); "
    "vectors from embed are unit length, so a dot product is the cosine.",
    """
    import numpy as np

    def search(query, documents):
        vectors = np.array(ollama.embed(model=ollama_nb.EMBED_MODEL,
                                        input=[query, *documents]).embeddings)
        scores = vectors[1:] @ vectors[0]
        return documents[int(np.argmax(scores))]

    answer = search
    """,
)
def _check_04_2(answer: Any) -> str:
    import ollama_nb

    if not callable(answer):
        raise NotYet(_t("04.2.kind", kind=_kind(answer)))
    vectors = _ollama().embed(model=ollama_nb.EMBED_MODEL, input=_QUERIES + _DOCS).embeddings
    docs = vectors[len(_QUERIES) :]
    for query, qv in zip(_QUERIES, vectors):
        scores = [sum(a * b for a, b in zip(qv, dv)) for dv in docs]
        expected = _DOCS[scores.index(max(scores))]
        got = answer(query, list(_DOCS))
        if got != expected:
            raise NotYet(_t("04.2.wrong", query=query, got=got, expected=expected))
    return _t("04.2.ok")


# -- 05 clients and async ---------------------------------------------------------------------
@exercise(
    "05.1",
    "Make a Client for ollama_nb.HOST with a 30-second timeout and put it in answer.",
    "Client(host=..., timeout=...) takes the timeout in seconds.",
    """
    from ollama import Client

    answer = Client(host=ollama_nb.HOST, timeout=30)
    """,
)
def _check_05_1(answer: Any) -> str:
    import ollama_nb

    ollama = _ollama()
    if isinstance(answer, ollama.AsyncClient):
        raise NotYet(_t("05.1.async"))
    if not isinstance(answer, ollama.Client):
        raise NotYet(_t("05.1.kind", kind=_kind(answer)))
    base = str(answer._client.base_url).rstrip("/")
    if ollama_nb.HOST and base != ollama_nb.HOST.rstrip("/"):
        raise NotYet(_t("05.1.host", base=base, host=ollama_nb.HOST))
    timeout = answer._client.timeout.read
    if timeout != 30:
        raise NotYet(_t("05.1.timeout", timeout=timeout))
    return _t("05.1.ok")


@exercise(
    "05.2",
    "Ask three questions at once with AsyncClient and asyncio.gather; put the three reply "
    "texts, in order, in answer.",
    "Make a list of coroutines client.chat(...) and await asyncio.gather(*coroutines).",
    """
    import asyncio
    from ollama import AsyncClient

    client = AsyncClient()
    questions = ['Why is the sky blue?', 'Why is the sea salty?', 'Tell me a joke.']
    responses = await asyncio.gather(*(
        client.chat(model=ollama_nb.MODEL, messages=[{'role': 'user', 'content': q}])
        for q in questions
    ))
    answer = [r.message.content for r in responses]
    """,
)
def _check_05_2(answer: Any) -> str:
    if inspect.isawaitable(answer):
        raise NotYet(_t("05.2.await"))
    if isinstance(answer, str) or not isinstance(answer, Iterable):
        raise NotYet(_t("05.2.kind", kind=_kind(answer)))
    items = list(answer)
    if any(inspect.isawaitable(item) for item in items):
        raise NotYet(_t("05.2.coroutines"))
    if len(items) != 3:
        raise NotYet(_t("05.2.count", n=len(items)))
    for item in items:
        _reply_text(item, "what.each")
    return _t("05.2.ok")


# -- 06 errors --------------------------------------------------------------------------------
@exercise(
    "06.1",
    "Write safe_chat(model, prompt) that returns the reply's text, or the server's error text "
    "(e.error) when the request fails with ollama.ResponseError.",
    "try: ... except ollama.ResponseError as e: return e.error",
    """
    def safe_chat(model, prompt):
        try:
            response = ollama.chat(model=model, messages=[{'role': 'user', 'content': prompt}])
        except ollama.ResponseError as e:
            return e.error
        return response.message.content

    answer = safe_chat
    """,
)
def _check_06_1(answer: Any) -> str:
    if not callable(answer):
        raise NotYet(_t("06.1.kind", kind=_kind(answer)))
    ollama = _ollama()
    _reply_text(answer(_model(), "Tell me a joke."), "what.reply")
    missing = "no-such-model-for-exercise"
    try:
        got = answer(missing, "hi")
    except ollama.ResponseError as exc:
        raise NotYet(_t("06.1.raised", error=exc.error)) from None
    if not isinstance(got, str) or "not found" not in got:
        raise NotYet(_t("06.1.missing", got=got))
    return _t("06.1.ok", got=got)


@exercise(
    "06.2",
    "Write with_retries(call, attempts=5, delay=0.5): call call() until it works; on "
    "ResponseError with status 429 or 503 wait (doubling delay each time) and retry; re-raise "
    "other errors at once, and the last error when attempts run out.",
    "A for loop over range(attempts) with try/except ollama.ResponseError as e; check "
    "e.status_code; time.sleep(delay); delay *= 2.",
    """
    import time

    def with_retries(call, attempts=5, delay=0.5):
        for attempt in range(attempts):
            try:
                return call()
            except ollama.ResponseError as e:
                if e.status_code not in (429, 503) or attempt == attempts - 1:
                    raise
                time.sleep(delay)
                delay *= 2

    answer = with_retries
    """,
)
def _check_06_2(answer: Any) -> str:
    if not callable(answer):
        raise NotYet(_t("06.2.kind", kind=_kind(answer)))
    ollama = _ollama()

    def flaky(failures: int, status: int):
        calls = []

        def call():
            calls.append(1)
            if len(calls) <= failures:
                raise ollama.ResponseError("injected by the checker", status)
            return "ok"

        return call, calls

    call, calls = flaky(2, 503)
    got = answer(call, attempts=5, delay=0)
    if got != "ok":
        raise NotYet(_t("06.2.result", got=got))
    if len(calls) != 3:
        raise NotYet(_t("06.2.calls", n=len(calls)))
    call, calls = flaky(10, 503)
    try:
        answer(call, attempts=5, delay=0)
    except ollama.ResponseError:
        if len(calls) != 5:
            raise NotYet(_t("06.2.attempts", n=len(calls))) from None
    else:
        raise NotYet(_t("06.2.reraise"))
    call, calls = flaky(10, 404)
    try:
        answer(call, attempts=5, delay=0)
    except ollama.ResponseError:
        if len(calls) != 1:
            raise NotYet(_t("06.2.404")) from None
    else:
        raise NotYet(_t("06.2.swallowed"))
    return _t("06.2.ok")


# -- 07 tools ---------------------------------------------------------------------------------
@exercise(
    "07.1",
    "Write multiply_two_numbers(a: int, b: int) -> int with a docstring describing a and b, "
    "ready to pass as a tool.",
    "Type hints give the parameter types; a Google-style docstring (Args: a: ..., b: ...) "
    "gives the descriptions.",
    '''
    def multiply_two_numbers(a: int, b: int) -> int:
        """
        Multiply two numbers

        Args:
          a (int): The first number
          b (int): The second number

        Returns:
          int: The product of the two numbers
        """
        return int(a) * int(b)

    answer = multiply_two_numbers
    ''',
)
def _check_07_1(answer: Any) -> str:
    from ollama._utils import convert_function_to_tool

    if not callable(answer):
        raise NotYet(_t("07.1.kind", kind=_kind(answer)))
    if answer(6, 7) != 42:
        raise NotYet(_t("07.1.wrong", got=answer(6, 7)))
    tool = convert_function_to_tool(answer)
    function = tool.function
    if not (function.description or "").strip():
        raise NotYet(_t("07.1.nodoc"))
    properties = dict(function.parameters.properties or {})
    if set(properties) != {"a", "b"}:
        raise NotYet(_t("07.1.params", params=sorted(properties)))
    for name, prop in properties.items():
        if prop.type != "integer":
            raise NotYet(_t("07.1.type", name=name, type=prop.type))
        if not (prop.description or "").strip():
            raise NotYet(_t("07.1.paramdoc", name=name))
    return _t("07.1.ok", name=function.name)


@exercise(
    "07.2",
    "Run the whole tool loop for 'What is 6 times 7?' with your multiply_two_numbers: call "
    "the tool the model asks for, send the result back, and put the final reply's text in "
    "answer.",
    "Append response.message, then {'role': 'tool', 'content': str(result), 'tool_name': "
    "call.function.name} for each call, and chat again.",
    '''
    def multiply_two_numbers(a: int, b: int) -> int:
        """
        Multiply two numbers

        Args:
          a (int): The first number
          b (int): The second number
        """
        return int(a) * int(b)

    messages = [{'role': 'user', 'content': 'What is 6 times 7?'}]
    response = ollama.chat(model=ollama_nb.MODEL, messages=messages,
                           tools=[multiply_two_numbers])
    messages.append(response.message)
    for call in response.message.tool_calls or []:
        result = multiply_two_numbers(**call.function.arguments)
        messages.append({'role': 'tool', 'content': str(result),
                         'tool_name': call.function.name})
    response = ollama.chat(model=ollama_nb.MODEL, messages=messages,
                           tools=[multiply_two_numbers])
    answer = response.message.content
    ''',
    given=("messages",),
)
def _check_07_2(answer: Any, messages: Any = None) -> str:
    text = _reply_text(answer, "what.final")
    if not isinstance(messages, list):
        raise NotYet(_t("07.2.nomessages"))
    asked = [
        call.function.name if hasattr(call, "function") else call["function"]["name"]
        for m in messages
        if _field(m, "role") == "assistant"
        for call in _field(m, "tool_calls") or []
    ]
    results = [str(_field(m, "content")) for m in messages if _field(m, "role") == "tool"]
    if not asked:
        raise NotYet(_t("07.2.nocall"))
    if not any(r.strip() == "42" for r in results):
        raise NotYet(_t("07.2.noresult"))
    if not re.search(r"\b42\b|forty[- ]two|四十二", text, re.IGNORECASE):
        raise NotYet(_t("07.2.no42"))
    return _t("07.2.ok")


def _field(item: Any, name: str) -> Any:
    """A message field, whether the message is a dict or the library's Message."""
    return item.get(name) if isinstance(item, Mapping) else getattr(item, name, None)


# -- 08 structured outputs --------------------------------------------------------------------
@exercise(
    "08.1",
    "Define a pydantic model City with name (str), country (str) and population (int).",
    "class City(BaseModel): then one annotated field per line.",
    """
    from pydantic import BaseModel

    class City(BaseModel):
        name: str
        country: str
        population: int

    answer = City
    """,
)
def _check_08_1(answer: Any) -> str:
    from pydantic import BaseModel

    if not (isinstance(answer, type) and issubclass(answer, BaseModel)):
        raise NotYet(_t("08.1.kind", kind=_kind(answer)))
    fields = answer.model_fields
    wanted = {"name": str, "country": str, "population": int}
    for name, kind in wanted.items():
        if name not in fields:
            raise NotYet(_t("08.1.nofield", name=name))
        if fields[name].annotation is not kind:
            raise NotYet(
                _t(
                    "08.1.annotation",
                    name=name,
                    annotation=fields[name].annotation,
                    kind=kind.__name__,
                )
            )
    schema = answer.model_json_schema()
    return _t("08.1.ok", fields=", ".join(schema.get("required", [])))


@exercise(
    "08.2",
    "Ask for Paris (capital of France, 2102650 inhabitants) as a City object: "
    "format=City.model_json_schema(), then City.model_validate_json(...). Put the City in "
    "answer.",
    "Pass the schema as format=, then validate response.message.content.",
    """
    from pydantic import BaseModel

    class City(BaseModel):
        name: str
        country: str
        population: int

    response = ollama.chat(
        model=ollama_nb.MODEL,
        messages=[{'role': 'user', 'content': 'Paris is the capital of France and has '
                                              '2102650 inhabitants. Return it as JSON.'}],
        format=City.model_json_schema(),
        options={'temperature': 0},
    )
    answer = City.model_validate_json(response.message.content)
    """,
)
def _check_08_2(answer: Any) -> str:
    from pydantic import BaseModel

    if isinstance(answer, str):
        raise NotYet(_t("08.2.text"))
    if isinstance(answer, dict):
        raise NotYet(_t("08.2.dict"))
    if not isinstance(answer, BaseModel):
        raise NotYet(_t("08.2.kind", kind=_kind(answer)))
    missing = [f for f in ("name", "country", "population") if not hasattr(answer, f)]
    if missing:
        raise NotYet(_t("08.2.missing", fields=", ".join(missing)))
    if not isinstance(answer.population, int):
        raise NotYet(_t("08.2.population"))
    if not str(answer.name).strip() or "france" not in str(answer.country).lower():
        raise NotYet(_t("08.2.city", name=answer.name, country=answer.country))
    if not _close(answer.population, 2_102_650, rel=0.05):
        raise NotYet(_t("08.2.number", population=answer.population))
    return _t("08.2.ok", kind=type(answer).__name__, name=answer.name, country=answer.country)


# -- 09 thinking and images -------------------------------------------------------------------
@exercise(
    "09.1",
    "Ask the thinking model 'What is 3 plus 5?' with think=True; put the thinking text in answer.",
    "The thinking is in response.message.thinking, separate from .content.",
    """
    response = ollama.chat(model=ollama_nb.THINK_MODEL, think=True, messages=[
        {'role': 'user', 'content': 'What is 3 plus 5?'},
    ])
    answer = response.message.thinking
    """,
)
def _check_09_1(answer: Any) -> str:
    if answer is None:
        raise NotYet(_t("09.1.none"))
    text = _reply_text(answer, "what.thinking")
    return _t("09.1.ok", n=len(text))


# What images/shapes.png holds (a red square, a blue circle, a yellow triangle on white): a
# reply that looked at it names a colour or a shape, in any wording or language.
_SHAPES_WORDS = re.compile(
    r"\b(red|blue|yellow|white|squares?|circles?|triangles?|rectangles?|shapes?|geometric)\b"
    r"|红|蓝|黄|白色|白底|正方|方形|方块|圆|三角|形状|图形",
    re.IGNORECASE,
)


@exercise(
    "09.2",
    "Ask the vision model (llava) what is in images/shapes.png; put the reply's text in answer.",
    "Put the file path in the user message: {'role': 'user', 'content': ..., 'images': "
    "['images/shapes.png']}.",
    """
    response = ollama.chat(model=ollama_nb.VISION_MODEL, messages=[
        {'role': 'user', 'content': 'What is in this picture?',
         'images': ['images/shapes.png']},
    ])
    answer = response.message.content
    """,
)
def _check_09_2(answer: Any) -> str:
    text = _reply_text(answer)
    if not _SHAPES_WORDS.search(text):
        raise NotYet(_t("09.2.blind"))
    return _t("09.2.ok", n=len(text))


# -- the exercises' tasks and hints in Chinese ------------------------------------------------
_ZH: dict[str, tuple[str, str]] = {
    "00.1": (
        "用 ollama.chat 问模型 'What is Ollama?'，把回复的文字放进 answer。",
        "复制第一个对话单元格，改一下问题，再取 response['message']['content']。",
    ),
    "00.2": (
        "问一问“为什么海水是咸的？”，把回复的文字放进 answer。",
        "只需要改 user 消息的 'content'，调用的其余部分保持不变。",
    ),
    "01.1": (
        "构造一个消息列表：先是一条让模型扮演海盗的 system 消息，再是一条请它讲笑话的 user 消息。",
        "两个字典，各有 'role' 和 'content'；system 消息放在前面。",
    ),
    "01.2": (
        "告诉模型你的名字，把它的回复加进对话历史，再问 'What is my name?'。"
        "把整个消息列表（以模型最后一条回复结尾）放进 answer。",
        "每次调用 chat 之后，先把 response.message（或 {'role': 'assistant', 'content': ...}）"
        "追加到 messages，再加下一条 user 消息。",
    ),
    "01.3": (
        "根据一个响应，算出生成速度：每秒多少个 token。",
        "eval_duration 纳秒内生成了 eval_count 个 token。",
    ),
    "01.4": (
        "用 stream=True 流式获取回复，把所有片段拼成一个字符串放进 answer。",
        "遍历这个流，把每个片段的 chunk['message']['content'] 拼接起来。",
    ),
    "02.1": (
        "用 ollama.generate，传入 system='You are Mario from Super Mario Bros.' 和提示词 "
        "'Say hello.'；把回复的文字放进 answer。",
        "generate 通过关键字参数 system= 接收系统提示词，回复的文字在 response.response 里。",
    ),
    "02.2": (
        "用 format='json' 让 ollama.generate 返回一个 JSON 对象，把解析后的 dict 放进 answer。",
        "format='json' 让回复文字成为合法的 JSON；用 json.loads(response.response) 解析。",
    ),
    "02.3": (
        "哪个函数用带角色的消息列表来保存一段对话：'chat' 还是 'generate'？",
        "其中一个接收 messages=，另一个只接收一个 prompt=。",
    ),
    "03.1": (
        "用现在的 API，把本地模型的名字以字符串列表的形式放进 answer。",
        "ollama.list().models 里是各个模型；每个模型有 .model（已经没有 'name' 了）。",
    ),
    "03.2": (
        "用现在的 ollama.create，基于 ollama_nb.MODEL 创建一个名为 'pirate-llama' 的模型，"
        "系统提示词是 'You are a pirate.'；把它的名字放进 answer。",
        "ollama.create(model=..., from_=..., system=...)：Modelfile 里的 FROM 和 SYSTEM "
        "变成了 from_= 和 system=。",
    ),
    "03.3": (
        "本地模型一共占用多少磁盘空间，单位 GB（1 GB = 10**9 字节）？",
        "把 ollama.list().models 中每个 m.size 加起来，再除以 1e9。",
    ),
    "04.1": (
        "写一个函数 cosine(u, v)：计算两个向量（数字列表）的余弦相似度。",
        "点积除以两个向量长度的乘积：np.dot(u, v) / (np.linalg.norm(u) * np.linalg.norm(v))。",
    ),
    "04.2": (
        "写一个函数 search(query, documents)，用 ollama.embed 和余弦相似度，"
        "返回与 query 意思最接近的文档。",
        "在一次 embed 调用里同时嵌入文档和查询（input=[query, *documents]）；"
        "embed 返回的是单位向量，所以点积就是余弦相似度。",
    ),
    "05.1": (
        "为 ollama_nb.HOST 创建一个超时为 30 秒的 Client，放进 answer。",
        "Client(host=..., timeout=...) 的 timeout 以秒为单位。",
    ),
    "05.2": (
        "用 AsyncClient 和 asyncio.gather 同时问三个问题；把三条回复的文字按顺序放进 answer。",
        "先做一个由 client.chat(...) 协程组成的列表，再 await asyncio.gather(*coroutines)。",
    ),
    "06.1": (
        "写一个函数 safe_chat(model, prompt)：返回回复的文字；请求因 ollama.ResponseError "
        "失败时，返回服务器的错误文字（e.error）。",
        "try: ... except ollama.ResponseError as e: return e.error",
    ),
    "06.2": (
        "写一个函数 with_retries(call, attempts=5, delay=0.5)：反复调用 call() 直到成功；"
        "遇到状态码 429 或 503 的 ResponseError 时等待（每次把 delay 翻倍）后重试；"
        "其他错误立即重新抛出，尝试次数用完时抛出最后一个错误。",
        "用 for 循环遍历 range(attempts)，配合 try/except ollama.ResponseError as e；"
        "检查 e.status_code；time.sleep(delay)；delay *= 2。",
    ),
    "07.1": (
        "写一个函数 multiply_two_numbers(a: int, b: int) -> int，带上描述 a 和 b 的 docstring，"
        "可以直接作为工具传入。",
        "类型注解给出参数类型；Google 风格的 docstring（Args: a: ..., b: ...）给出参数描述。",
    ),
    "07.2": (
        "用你的 multiply_two_numbers 跑完整个工具调用流程，问题是 'What is 6 times 7?'："
        "调用模型要求的工具，把结果发回去，再把最终回复的文字放进 answer。",
        "先追加 response.message，再为每个工具调用追加 {'role': 'tool', 'content': str(result), "
        "'tool_name': call.function.name}，然后再调用一次 chat。",
    ),
    "08.1": (
        "定义一个 pydantic 模型 City，字段有 name（str）、country（str）和 population（int）。",
        "class City(BaseModel):，然后每行写一个带类型注解的字段。",
    ),
    "08.2": (
        "让模型以 City 对象的形式给出巴黎（法国首都，2102650 人）："
        "format=City.model_json_schema()，"
        "再用 City.model_validate_json(...)。把这个 City 放进 answer。",
        "把 schema 作为 format= 传入，再校验 response.message.content。",
    ),
    "09.1": (
        "用 think=True 问思考模型 'What is 3 plus 5?'；把思考过程的文字放进 answer。",
        "思考过程在 response.message.thinking 里，和 .content 分开。",
    ),
    "09.2": (
        "问视觉模型（llava）images/shapes.png 里有什么；把回复的文字放进 answer。",
        "把文件路径放进 user 消息：{'role': 'user', 'content': ..., 'images': "
        "['images/shapes.png']}。",
    ),
}
_t.table.update(
    {
        f"{ex.id}.{part}": {"en": getattr(ex, part), "zh": _ZH.get(ex.id, (ex.task, ex.hint))[i]}
        for ex in EXERCISES.values()
        for i, part in enumerate(("task", "hint"))
    }
)


def task(exercise_id: str) -> None:
    """Print an exercise's task in the learner's language."""
    ex = _find(exercise_id)
    print(_t("task_for", id=ex.id, task=_t(f"{ex.id}.task")))
