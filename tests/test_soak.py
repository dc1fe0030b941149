"""Load and soak: events through every transport reach pusher-js, none lost or duplicated.

Each test publishes numbered events to a local soketi 1.6.1 and counts what a pusher-js
8.6.0 subscriber receives: every event exactly once, and on each channel in the order
its one publisher sent them. Two shapes of load run:

- a client shared by 16 threads, each publishing its own channel one event at a time,
  through every transport in `tests.e2e_clients.CLIENT_FACTORIES`;
- an `AsyncClient` with 500 publish calls awaited at once, from 500 tasks that each
  publish their own channel one event at a time.

CI runs a short form of a few thousand events in total. ``PUSHER_SOAK=1`` runs 20,000
events per transport. soketi's default app has no event rate limit (its
``maxBackendEventsPerSecond`` defaults to -1), so any loss is the SDK's or the peers'.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from pusher_core import Config
from pusher_transports import AsyncClient
from tests.e2e_clients import CLIENT_FACTORIES
from tests.support.peers import SoketiServer, Subscriber

pytestmark = pytest.mark.e2e

SOAK = os.environ.get("PUSHER_SOAK") == "1"
EVENTS_PER_TRANSPORT = 20_000 if SOAK else 1_280
THREADS = 16
CONCURRENT_PUBLISHES = 500
# Generous, because other tests share the machine's two cores: a whole run normally
# delivers at several hundred events per second.
MIN_EVENTS_PER_SECOND = 50
SETTLE_SECONDS = 1.0
# The default timeout: callers waiting for a pooled connection are served in arrival
# order, so none waits much longer than the others.
PUBLISH_TIMEOUT = 10.0
EVENT_NAME = "soak"

_run_ids = itertools.count()


def channel_names(count: int) -> list[str]:
    run = f"soak-{os.getpid()}-{next(_run_ids)}"
    return [f"{run}-{index}" for index in range(count)]


def deadline_for(total: int) -> float:
    return 30.0 + total / MIN_EVENTS_PER_SECOND


def wait_for_events(listener: Subscriber, total: int) -> list[dict[str, Any]]:
    """Return the soak events once ``total`` arrived, plus any that came a moment later.

    The subscriber's own wait scans every record on each arrival, which costs too much
    at 20,000 events, so this polls the count instead.
    """
    deadline = time.monotonic() + deadline_for(total)
    while time.monotonic() < deadline:
        if len(soak_events(listener)) >= total:
            break
        time.sleep(0.2)
    # Late duplicates would arrive after the count is reached, so they get time to.
    time.sleep(SETTLE_SECONDS)
    return soak_events(listener)


def soak_events(listener: Subscriber) -> list[dict[str, Any]]:
    return [
        record
        for record in listener.records
        if record.get("type") == "event" and record.get("event") == EVENT_NAME
    ]


def check_delivery(events: list[dict[str, Any]], sent: dict[str, int]) -> None:
    """Check each channel got 0..n-1 exactly once each, in order."""
    received: dict[str, list[int]] = defaultdict(list)
    for event in events:
        received[event["channel"]].append(event["data"]["seq"])

    lost = {name: count - len(set(received[name])) for name, count in sent.items()}
    duplicated = {
        name: sorted(seq for seq, times in Counter(received[name]).items() if times > 1)
        for name in sent
    }
    assert set(received) <= set(sent)
    assert sum(lost.values()) == 0, f"lost events per channel: {lost}"
    assert not any(duplicated.values()), f"duplicated sequence numbers: {duplicated}"
    for name, count in sent.items():
        assert received[name] == list(range(count)), f"{name} arrived out of order"


def subscribe(subscriber: Callable[..., Subscriber], channels: list[str]) -> Subscriber:
    listener = subscriber(channels)
    listener.wait_subscribed(channels, timeout=60)
    return listener


@pytest.mark.parametrize("transport", sorted(CLIENT_FACTORIES))
def test_threads_share_one_client(
    transport: str, soketi: SoketiServer, subscriber: Callable[..., Subscriber]
) -> None:
    channels = channel_names(THREADS)
    per_channel = EVENTS_PER_TRANSPORT // THREADS
    listener = subscribe(subscriber, channels)

    with CLIENT_FACTORIES[transport](Config.for_url(soketi.url, timeout=PUBLISH_TIMEOUT)) as client:

        def publish(channel: str) -> None:
            for seq in range(per_channel):
                client.trigger(channel, EVENT_NAME, {"seq": seq})

        with ThreadPoolExecutor(max_workers=THREADS) as pool:
            futures = [pool.submit(publish, channel) for channel in channels]
            for future in futures:
                future.result(timeout=deadline_for(EVENTS_PER_TRANSPORT))

    events = wait_for_events(listener, per_channel * THREADS)
    check_delivery(events, dict.fromkeys(channels, per_channel))


def test_async_client_with_500_concurrent_publishes(
    soketi: SoketiServer, subscriber: Callable[..., Subscriber]
) -> None:
    channels = channel_names(CONCURRENT_PUBLISHES)
    per_channel = max(1, EVENTS_PER_TRANSPORT // CONCURRENT_PUBLISHES)
    listener = subscribe(subscriber, channels)
    in_flight = 0
    max_in_flight = 0
    lock = threading.Lock()

    async def publish(client: AsyncClient, channel: str) -> None:
        nonlocal in_flight, max_in_flight
        for seq in range(per_channel):
            with lock:
                in_flight += 1
                max_in_flight = max(max_in_flight, in_flight)
            try:
                await client.trigger(channel, EVENT_NAME, {"seq": seq})
            finally:
                with lock:
                    in_flight -= 1

    async def run() -> None:
        async with AsyncClient(Config.for_url(soketi.url, timeout=PUBLISH_TIMEOUT)) as client:
            tasks = [publish(client, channel) for channel in channels]
            await asyncio.wait_for(asyncio.gather(*tasks), deadline_for(EVENTS_PER_TRANSPORT))

    asyncio.run(run())

    events = wait_for_events(listener, per_channel * CONCURRENT_PUBLISHES)
    check_delivery(events, dict.fromkeys(channels, per_channel))
    assert max_in_flight == CONCURRENT_PUBLISHES
