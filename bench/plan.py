"""The benchmark plan: every workload with its subjects, sizes and targets."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# The runtimes a subject can run in: this SDK's virtual environment, the peers' one, or Node.
OURS_ENV, PEERS_ENV, NODE = "ours", "peers", "node"


@dataclass(frozen=True)
class Subject:
    """One implementation measured on a workload.

    Attributes:
        key: The short name that ratios and targets refer to, such as ``official``.
        label: The name shown in the table and the chart.
        runtime: `OURS_ENV`, `PEERS_ENV` or `NODE`.
        module: The bench.subjects module for Python subjects.
        workload: The workload function's name in that module or in npm_bench.js.
    """

    key: str
    label: str
    runtime: str
    module: str = ""
    workload: str = ""


@dataclass(frozen=True)
class Workload:
    """A workload, its sizes in full and quick mode, and the subjects measured on it."""

    name: str
    description: str
    unit: str
    subjects: tuple[Subject, ...]
    full: dict[str, Any]
    quick: dict[str, Any]
    higher_is_better: bool = True


def _ours(workload: str, key: str = "ours", label: str = "ours") -> Subject:
    return Subject(key, label, OURS_ENV, "ours", workload)


def _floor(workload: str, label: str) -> Subject:
    return Subject("floor", f"floor: {label}", OURS_ENV, "floor", workload)


def _official(workload: str, label: str = "official pusher 3.3.4") -> Subject:
    return Subject("official", label, PEERS_ENV, "official", workload)


def _npm(workload: str) -> Subject:
    return Subject("npm", "npm pusher 5.3.4", NODE, "", workload)


IN_FLIGHT = 64
THREADS = 8

WORKLOADS: tuple[Workload, ...] = (
    Workload(
        "build",
        "build and sign one trigger request, no I/O",
        "ops/s",
        (
            _ours("build"),
            _floor("build", "json + MD5 + HMAC"),
            _official("build"),
            _npm("build"),
        ),
        {"count": 50_000},
        {"count": 10_000},
    ),
    Workload(
        "sync",
        "sequential triggers over one kept-alive connection",
        "req/s",
        (
            _ours("sync"),
            _floor("sync", "urllib3"),
            _official("sync", "official pusher 3.3.4 (requests)"),
        ),
        {"count": 4_000},
        {"count": 1_500},
    ),
    Workload(
        "threads",
        f"one blocking client shared by {THREADS} threads",
        "req/s",
        (
            _ours("threads"),
            _floor("threads", "urllib3"),
            _official("threads", "official pusher 3.3.4 (requests)"),
        ),
        {"count": 4_000, "threads": THREADS},
        {"count": 1_600, "threads": THREADS},
    ),
    Workload(
        "async",
        f"triggers, {IN_FLIGHT} in flight",
        "req/s",
        (
            _ours("async"),
            _floor("async", "aiohttp"),
            _official("async", "official pusher 3.3.4 (aiohttp)"),
            _npm("async"),
        ),
        {"count": 8_000, "in_flight": IN_FLIGHT},
        {"count": 2_560, "in_flight": IN_FLIGHT},
    ),
    Workload(
        "encrypted_build",
        "build one trigger on a private-encrypted- channel, no I/O",
        "ops/s",
        (_ours("encrypted_build"), _official("encrypted_build"), _npm("encrypted_build")),
        {"count": 20_000},
        {"count": 5_000},
    ),
    Workload(
        "encrypted_async",
        f"triggers on a private-encrypted- channel, {IN_FLIGHT} in flight",
        "req/s",
        (_ours("encrypted_async"), _npm("encrypted_async")),
        {"count": 6_400, "in_flight": IN_FLIGHT},
        {"count": 1_920, "in_flight": IN_FLIGHT},
    ),
    Workload(
        "webhook",
        "validate a typical signed webhook and read its events",
        "ops/s",
        (
            _ours("webhook"),
            _floor("webhook", "HMAC + json"),
            _official("webhook"),
            _npm("webhook"),
        ),
        {"count": 50_000},
        {"count": 10_000},
    ),
    Workload(
        "bulk",
        "publish 10,000 independent events on 20 channels as fast as possible",
        "events/s",
        (
            _ours("bulk_async", "ours", "ours: AsyncBulkPublisher"),
            _ours("bulk_threads", "ours_threads", f"ours: BulkPublisher, {THREADS} threads"),
            _ours("bulk_loop", "ours_loop", f"ours: trigger loop, {IN_FLIGHT} in flight"),
            _floor("bulk_batches", "aiohttp, batches of 10"),
            _npm("bulk"),
        ),
        {"count": 10_000, "in_flight": IN_FLIGHT, "threads": THREADS, "channels": 20, "lanes": 8},
        {"count": 10_000, "in_flight": IN_FLIGHT, "threads": THREADS, "channels": 20, "lanes": 8},
    ),
    Workload(
        "memory_build",
        "peak RSS after building 100,000 trigger requests (quick mode: 20,000)",
        "MB",
        (
            _ours("memory_build"),
            _floor("memory_build", "json + MD5 + HMAC"),
            _official("memory_build"),
        ),
        {"count": 100_000},
        {"count": 20_000},
        higher_is_better=False,
    ),
    Workload(
        "memory_async",
        "RSS growth over 20,000 async sends after 2,000 warm-up ones (quick mode: 5,000)",
        "MB",
        (_ours("memory_async"), _floor("memory_async", "aiohttp")),
        {"count": 20_000, "warmup": 2_000, "in_flight": IN_FLIGHT},
        {"count": 5_000, "warmup": 1_000, "in_flight": IN_FLIGHT},
        higher_is_better=False,
    ),
)


@dataclass(frozen=True)
class Target:
    """A goal: ours divided by another subject's median is at least `minimum`.

    With ``other`` empty, the goal is instead that our median stays below `maximum`.
    """

    workload: str
    other: str
    minimum: float = 0.0
    maximum: float = 0.0
    ours: str = "ours"


TARGETS: tuple[Target, ...] = (
    Target("build", "floor", 0.6),
    Target("build", "official", 2.0),
    Target("sync", "floor", 0.85),
    Target("sync", "official", 2.5),
    Target("async", "floor", 0.9),
    Target("async", "official", 3.0),
    Target("async", "npm", 0.9),
    Target("bulk", "npm", 5.0),
    Target("encrypted_build", "npm", 2.0),
    Target("memory_async", "", maximum=5.0),
)
