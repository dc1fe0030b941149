"""The app, the payloads and the timing helpers every Python subject shares.

This module imports the standard library only, because it also runs in the peers'
virtual environment, which does not have this SDK installed.
"""

from __future__ import annotations

import asyncio
import gc
import hashlib
import hmac
import json
import resource
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

# Made-up credentials for a loopback server that checks nothing.
APP_ID = "424242"  # numeric, because the official package rejects other app ids
KEY = "bench-key"
SECRET = "bench-secret"
MASTER_KEY_BASE64 = "YmVuY2gtbWFzdGVyLWtleS0zMi1ieXRlcy1sb25nISE="
CHANNEL = "bench-channel"
ENCRYPTED_CHANNEL = "private-encrypted-bench-channel"
EVENT = "bench-event"
DATA = {"message": "hello world", "user": {"id": 42, "name": "Ada"}, "tags": ["a", "b"]}
EVENTS_PATH = f"/apps/{APP_ID}/events"
BATCH_PATH = f"/apps/{APP_ID}/batch_events"

Spec = dict[str, Any]


def webhook_request(now_ms: int | None = None) -> tuple[dict[str, str], bytes]:
    """Return the headers and body of a typical signed webhook: one channel_occupied."""
    time_ms = int(time.time() * 1000) if now_ms is None else now_ms
    events = [{"name": "channel_occupied", "channel": CHANNEL}]
    body = json.dumps({"time_ms": time_ms, "events": events}, separators=(",", ":")).encode()
    signature = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": "application/json",
        "X-Pusher-Key": KEY,
        "X-Pusher-Signature": signature,
    }
    return headers, body


def timed_loop(count: int, operation: Callable[[], object]) -> float:
    """Run `operation` `count` times after a short warm-up; return operations per second."""
    for _ in range(min(200, max(count // 10, 1))):
        operation()
    started = time.perf_counter()
    for _ in range(count):
        operation()
    return count / (time.perf_counter() - started)


def timed_threads(count: int, threads: int, operation: Callable[[], object]) -> float:
    """Run `operation` `count` times split over `threads` threads; return operations per second."""
    share = count // threads
    for _ in range(threads * 4):
        operation()
    barrier = threading.Barrier(threads + 1)

    def work() -> None:
        barrier.wait()
        for _ in range(share):
            operation()

    workers = [threading.Thread(target=work) for _ in range(threads)]
    for worker in workers:
        worker.start()
    barrier.wait()
    started = time.perf_counter()
    for worker in workers:
        worker.join()
    return share * threads / (time.perf_counter() - started)


async def timed_in_flight(
    count: int, in_flight: int, operation: Callable[[], Awaitable[object]]
) -> float:
    """Await `operation` `count` times, `in_flight` at once; return operations per second."""
    await _in_flight(in_flight * 4, in_flight, operation)
    started = time.perf_counter()
    done = await _in_flight(count, in_flight, operation)
    return done / (time.perf_counter() - started)


async def _in_flight(count: int, in_flight: int, operation: Callable[[], Awaitable[object]]) -> int:
    share = count // in_flight

    async def work() -> None:
        for _ in range(share):
            await operation()

    await asyncio.gather(*(work() for _ in range(in_flight)))
    return share * in_flight


def peak_rss_mb() -> float:
    """Return the peak resident set size of this process in MB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    """Return the current resident set size of this process in MB, from /proc."""
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * resource.getpagesize() / (1024 * 1024)


async def rss_growth_in_flight(
    warmup: int, count: int, in_flight: int, operation: Callable[[], Awaitable[object]]
) -> float:
    """Return the RSS growth in MB over `count` awaits of `operation`, after `warmup` ones."""
    await timed_in_flight(warmup, in_flight, operation)
    gc.collect()
    before = current_rss_mb()
    await timed_in_flight(count, in_flight, operation)
    gc.collect()
    return current_rss_mb() - before
