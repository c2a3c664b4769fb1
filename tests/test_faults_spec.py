"""Parsing and answering --faults SPEC rules (no server needed)."""

from __future__ import annotations

import threading

import pytest

from ollama_nb.server.faults import FaultPlan


def test_empty_plans():
    for spec in (None, "", " ; ;"):
        plan = FaultPlan.parse(spec)
        assert not plan
        assert plan.latency("chat") == 0.0
        assert plan.error("chat") is None
        assert plan.cut_after("chat") is None
        assert plan.stall_after("chat") is None
        assert plan.pull_bytes_per_second() is None
        assert plan.describe() == "no faults"


def test_parse_returns_a_plan_unchanged():
    plan = FaultPlan.parse("latency=1s")
    assert FaultPlan.parse(plan) is plan


@pytest.mark.parametrize(
    ("spec", "seconds"),
    [("latency=200ms", 0.2), ("latency=1s", 1.0), ("latency=1.5s", 1.5), ("latency=0ms", 0.0)],
)
def test_latency(spec, seconds):
    plan = FaultPlan.parse(spec)
    assert plan.latency("chat") == pytest.approx(seconds)
    assert plan.latency("tags") == pytest.approx(seconds)


def test_scoping_and_precedence():
    plan = FaultPlan.parse("latency=1s@chat,generate;latency=200ms")
    assert plan.latency("chat") == 1.0  # scoped beats unscoped, whatever the order
    assert plan.latency("generate") == 1.0
    assert plan.latency("embed") == pytest.approx(0.2)
    assert FaultPlan.parse("latency=1s@chat;latency=2s@chat").latency("chat") == 2.0
    assert FaultPlan.parse("latency=1s@chat").latency("embed") == 0.0


def test_endpoint_names_from_paths():
    plan = FaultPlan.parse("error=404@blobs;latency=5ms@chat")
    assert plan.error("/api/blobs/sha256:abc") == (
        404,
        "practice server fault: HTTP 404 (injected)",
    )
    assert plan.latency("/api/chat") == pytest.approx(0.005)


@pytest.mark.parametrize(
    ("code", "text"),
    [
        (500, "practice server fault: internal error (injected)"),
        (503, "server busy, please try again (injected)"),
        (429, "too many requests (injected)"),
        (502, "practice server fault: HTTP 502 (injected)"),
    ],
)
def test_error_texts(code, text):
    assert FaultPlan.parse(f"error={code}").error("generate") == (code, text)


def test_error_scope():
    plan = FaultPlan.parse("error=503@chat")
    assert all(
        plan.error("chat") == (503, "server busy, please try again (injected)") for _ in "x" * 20
    )
    assert plan.error("generate") is None


def test_error_share_is_deterministic_and_roughly_right():
    def run(spec: str) -> list:
        plan = FaultPlan.parse(spec)
        return [plan.error("chat") for _ in range(1000)]

    first, again = run("error=500:0.3"), run("error=500:0.3")
    assert first == again
    failures = sum(r is not None for r in first)
    assert 250 <= failures <= 350
    assert run("error=500:0.3;seed=7") != first
    assert run("error=500:0.3;seed=7") == run("seed=7;error=500:30%")


def test_share_sequence_per_endpoint_is_independent_of_other_traffic():
    alone = FaultPlan.parse("error=429:0.5@embed")
    mixed = FaultPlan.parse("error=429:0.5@embed;error=500:0.5@chat")
    seq_alone = [alone.error("embed") for _ in range(50)]
    seq_mixed = []
    for _ in range(50):
        mixed.error("chat")
        seq_mixed.append(mixed.error("embed"))
    assert seq_alone == seq_mixed
    assert {r[0] for r in seq_alone if r} == {429}


def test_error_share_thread_safe():
    plan = FaultPlan.parse("error=500:0.3")
    results: list = []

    def worker():
        results.extend(plan.error("chat") for _ in range(500))

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    serial = FaultPlan.parse("error=500:0.3")
    expected = sum(serial.error("chat") is not None for _ in range(2000))
    assert sum(r is not None for r in results) == expected


def test_first_firing_error_rule_wins():
    plan = FaultPlan.parse("error=503@chat;error=500")
    assert plan.error("chat")[0] == 503
    assert plan.error("tags")[0] == 500


def test_cut_stall_pull_speed_seed():
    plan = FaultPlan.parse("cut=5@chat; stall=3@generate; pull-speed=2MB/s; seed=7")
    assert plan.cut_after("chat") == 5
    assert plan.cut_after("generate") is None
    assert plan.stall_after("generate") == 3
    assert plan.stall_after("chat") is None
    assert plan.pull_bytes_per_second() == 2_000_000
    assert plan.seed == 7
    assert FaultPlan.parse("cut=0").cut_after("pull") == 0
    speeds = {"100B/s": 100, "500KB/s": 500_000, "1.5GB/s": 1.5e9, "2mb/s": 2e6, "3MB": 3e6}
    for text, bps in speeds.items():
        assert FaultPlan.parse(f"pull-speed={text}").pull_bytes_per_second() == bps


def test_bool():
    assert FaultPlan.parse("latency=1ms")
    assert not FaultPlan.parse("seed=3")  # a seed alone injects nothing


def test_describe_one_line_per_rule():
    spec = (
        "latency=200ms;latency=1s@chat,generate;error=503@chat;error=500:0.3;"
        "error=429:0.5@embed;cut=5@chat;stall=3@generate;pull-speed=2MB/s;seed=7"
    )
    lines = FaultPlan.parse(spec).describe().splitlines()
    assert lines == [
        "latency=200ms: wait 200 ms before answering all requests",
        "latency=1s@chat,generate: wait 1 s before answering chat and generate requests",
        'error=503@chat: fail every chat request with HTTP 503 "server busy, please try again'
        ' (injected)"',
        "error=500:0.3: fail 30% of all requests with HTTP 500 "
        '"practice server fault: internal error (injected)"',
        'error=429:0.5@embed: fail 50% of embed requests with HTTP 429 "too many requests'
        ' (injected)"',
        "cut=5@chat: drop the connection after 5 chunks of chat streams, without the final chunk",
        "stall=3@generate: stop sending after 3 chunks of generate streams, keeping the "
        "connection open",
        "pull-speed=2MB/s: pull models at 2 MB/s",
        "seed=7: random error shares use seed 7",
    ]


@pytest.mark.parametrize(
    "rule",
    [
        "latency=200",
        "latency=fast",
        "latency=-1s",
        "error=abc",
        "error=200",
        "error=600",
        "error=500:0",
        "error=500:1.5",
        "error=500:lots",
        "error=503@chatt",
        "error=503@",
        "cut=five@chat",
        "cut=5@tags",
        "stall=-1",
        "pull-speed=2MB/min",
        "pull-speed=0MB/s",
        "pull-speed=2MB/s@pull",
        "seed=x",
        "seed=1@chat",
        "explode=1",
        "latency",
    ],
)
def test_bad_rules_raise_value_error_naming_the_rule(rule):
    with pytest.raises(ValueError) as info:
        FaultPlan.parse(f"latency=1ms;{rule};seed=1")
    assert repr(rule) in str(info.value)
