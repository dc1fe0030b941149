"""Bulk publishing against a real soketi, with pusher-js counting what arrives."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections import defaultdict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from pusher_core import ChannelAttributes, Config
from pusher_transports import Client
from pusher_transports.async_client import AsyncClient
from pusher_transports.base import SyncTransport
from pusher_transports.bulk import AsyncBulkPublisher, BulkPublisher
from pusher_transports.pool import KeepAlivePool
from pusher_transports.urllib3_transport import Urllib3Transport
from tests.support.peers import SoketiServer, Subscriber

pytestmark = pytest.mark.e2e

EVENTS = 10_000
CHANNELS = 20
PER_CHANNEL = EVENTS // CHANNELS
ARRIVAL_TIMEOUT = 40.0

_runs = itertools.count()


def channel_names(prefix: str) -> list[str]:
    run = next(_runs)
    return [f"{prefix}-{run}-{index}" for index in range(CHANNELS)]


def listen(subscriber: Callable[..., Subscriber], channels: list[str]) -> Subscriber:
    listener = subscriber(channels)
    listener.wait_subscribed(channels, timeout=20)
    return listener


def wait_for_events(listener: Subscriber, count: int) -> list[dict[str, Any]]:
    """Return every event record once `count` arrived, or all of them at the deadline.

    Polling the record count keeps this linear; waiting on each record would rescan
    the whole list for every one of 10,000 events.
    """
    deadline = time.monotonic() + ARRIVAL_TIMEOUT
    while True:
        events = [record for record in listener.records if record.get("type") == "event"]
        if len(events) >= count or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    # A short extra wait shows duplicates that arrive after the expected count.
    time.sleep(0.5)
    return [record for record in listener.records if record.get("type") == "event"]


def check_arrivals(events: list[dict[str, Any]], channels: list[str]) -> None:
    sequences: dict[str, list[int]] = defaultdict(list)
    for event in events:
        assert event["event"] == "tick"
        sequences[event["channel"]].append(event["data"]["seq"])

    assert sorted(sequences) == sorted(channels)
    for channel in channels:
        assert sequences[channel] == list(range(PER_CHANNEL)), channel
    assert len(events) == EVENTS


# The sync transports meant for high-volume publishing. The proxy transports are left
# out: tinyproxy opens a connection to soketi for every request.
BULK_TRANSPORTS: dict[str, Callable[[], SyncTransport]] = {
    "urllib3": Urllib3Transport,
    "keep-alive-pool": KeepAlivePool,
}


@pytest.mark.parametrize("transport_name", sorted(BULK_TRANSPORTS))
def test_threads_publish_all_in_order(
    soketi: SoketiServer, subscriber: Callable[..., Subscriber], transport_name: str
) -> None:
    channels = channel_names("bulk-sync")
    listener = listen(subscriber, channels)

    def produce(publisher: BulkPublisher, channel: str) -> list[Any]:
        return [publisher.publish(channel, "tick", {"seq": seq}) for seq in range(PER_CHANNEL)]

    transport = BULK_TRANSPORTS[transport_name]()
    with transport, Client(Config.for_url(soketi.url), transport) as client:
        with BulkPublisher(client, lanes=8) as publisher, ThreadPoolExecutor(8) as pool:
            groups = list(pool.map(lambda channel: produce(publisher, channel), channels))
        results = [future.result(0) for group in groups for future in group]

    assert results == [ChannelAttributes()] * EVENTS
    check_arrivals(wait_for_events(listener, EVENTS), channels)


def test_asyncio_publish_all_in_order(
    soketi: SoketiServer, subscriber: Callable[..., Subscriber]
) -> None:
    channels = channel_names("bulk-async")
    listener = listen(subscriber, channels)

    async def publish_all() -> list[object]:
        async with AsyncClient(Config.for_url(soketi.url)) as client:
            async with AsyncBulkPublisher(client, lanes=8) as publisher:

                async def produce(channel: str) -> list[asyncio.Future[ChannelAttributes]]:
                    return [
                        await publisher.publish(channel, "tick", {"seq": seq})
                        for seq in range(PER_CHANNEL)
                    ]

                groups = await asyncio.gather(*(produce(channel) for channel in channels))
            futures = [future for group in groups for future in group]
            return await asyncio.gather(*futures, return_exceptions=True)

    results = asyncio.run(publish_all())

    assert results == [ChannelAttributes()] * EVENTS
    check_arrivals(wait_for_events(listener, EVENTS), channels)
