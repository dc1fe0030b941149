"""The workloads on this SDK: `pusher_core` and `pusher_transports`."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

from bench.fixtures import (
    APP_ID,
    CHANNEL,
    DATA,
    ENCRYPTED_CHANNEL,
    EVENT,
    KEY,
    MASTER_KEY_BASE64,
    SECRET,
    Spec,
    peak_rss_mb,
    rss_growth_in_flight,
    timed_in_flight,
    timed_loop,
    timed_threads,
    webhook_request,
)
from pusher_core import Config, RequestBuilder
from pusher_core.webhooks import Webhook
from pusher_transports import Client
from pusher_transports.async_client import AsyncClient
from pusher_transports.bulk import AsyncBulkPublisher, BulkPublisher


def _config(spec: Spec) -> Config:
    return Config(
        app_id=APP_ID,
        key=KEY,
        secret=SECRET,
        host="127.0.0.1",
        port=spec.get("port", 80),
        tls=False,
        encryption_master_key_base64=MASTER_KEY_BASE64,
    )


def build(spec: Spec) -> float:
    builder = RequestBuilder(_config(spec))
    return timed_loop(spec["count"], lambda: builder.trigger(CHANNEL, EVENT, DATA))


def encrypted_build(spec: Spec) -> float:
    builder = RequestBuilder(_config(spec))
    return timed_loop(spec["count"], lambda: builder.trigger(ENCRYPTED_CHANNEL, EVENT, DATA))


def sync(spec: Spec) -> float:
    with Client(_config(spec)) as client:
        return timed_loop(spec["count"], lambda: client.trigger(CHANNEL, EVENT, DATA))


def threads(spec: Spec) -> float:
    with Client(_config(spec)) as client:
        return timed_threads(
            spec["count"], spec["threads"], lambda: client.trigger(CHANNEL, EVENT, DATA)
        )


async def _async_triggers(spec: Spec, channel: str) -> float:
    async with AsyncClient(_config(spec)) as client:
        return await timed_in_flight(
            spec["count"], spec["in_flight"], lambda: client.trigger(channel, EVENT, DATA)
        )


async def async_(spec: Spec) -> float:
    return await _async_triggers(spec, CHANNEL)


async def encrypted_async(spec: Spec) -> float:
    return await _async_triggers(spec, ENCRYPTED_CHANNEL)


def webhook(spec: Spec) -> float:
    config = _config(spec)
    headers, body = webhook_request()

    def validate() -> Any:
        hook = Webhook(config, headers, body, max_age=300)
        assert hook.is_valid()
        return hook.events

    return timed_loop(spec["count"], validate)


def _bulk_channel(index: int, channels: int) -> tuple[str, dict[str, int]]:
    return f"{CHANNEL}-{index % channels}", {"sequence": index}


async def bulk_async(spec: Spec) -> float:
    """Publish `count` events through `AsyncBulkPublisher` from `in_flight` producer tasks."""
    count, producers, channels = spec["count"], spec["in_flight"], spec["channels"]
    loop = asyncio.get_running_loop()
    async with AsyncClient(_config(spec)) as client:
        started = loop.time()
        async with AsyncBulkPublisher(client, lanes=spec["lanes"]) as publisher:

            async def produce(offset: int) -> list[asyncio.Future[Any]]:
                futures = []
                for index in range(offset, count, producers):
                    channel, data = _bulk_channel(index, channels)
                    futures.append(await publisher.publish(channel, EVENT, data))
                return futures

            groups = await asyncio.gather(*(produce(offset) for offset in range(producers)))
        results = await asyncio.gather(*(future for group in groups for future in group))
        elapsed = loop.time() - started
    assert len(results) == count
    return count / elapsed


def bulk_threads(spec: Spec) -> float:
    """Publish `count` events through `BulkPublisher` from `threads` producer threads."""
    count, producers, channels = spec["count"], spec["threads"], spec["channels"]
    futures: list[Any] = []
    lock = threading.Lock()
    with Client(_config(spec)) as client:

        def produce(offset: int) -> None:
            mine = []
            for index in range(offset, count, producers):
                channel, data = _bulk_channel(index, channels)
                mine.append(publisher.publish(channel, EVENT, data))
            with lock:
                futures.extend(mine)

        started = time.perf_counter()
        with BulkPublisher(client, lanes=spec["lanes"]) as publisher:
            workers = [threading.Thread(target=produce, args=(n,)) for n in range(producers)]
            for worker in workers:
                worker.start()
            for worker in workers:
                worker.join()
        for future in futures:
            future.result()
        elapsed = time.perf_counter() - started
    return count / elapsed


async def bulk_loop(spec: Spec) -> float:
    """Publish `count` events as single triggers, `in_flight` at once: the plain loop."""
    count, in_flight, channels = spec["count"], spec["in_flight"], spec["channels"]
    async with AsyncClient(_config(spec)) as client:
        started = asyncio.get_running_loop().time()

        async def produce(offset: int) -> None:
            for index in range(offset, count, in_flight):
                channel, data = _bulk_channel(index, channels)
                await client.trigger(channel, EVENT, data)

        await asyncio.gather(*(produce(offset) for offset in range(in_flight)))
        return count / (asyncio.get_running_loop().time() - started)


def memory_build(spec: Spec) -> float:
    """Return the peak RSS in MB after building `count` trigger requests."""
    builder = RequestBuilder(_config(spec))
    for _ in range(spec["count"]):
        builder.trigger(CHANNEL, EVENT, DATA)
    return peak_rss_mb()


async def memory_async(spec: Spec) -> float:
    """Return the RSS growth in MB over `count` async sends, after a warm-up."""
    async with AsyncClient(_config(spec)) as client:

        async def send() -> object:
            return await client.trigger(CHANNEL, EVENT, DATA)

        return await rss_growth_in_flight(spec["warmup"], spec["count"], spec["in_flight"], send)


WORKLOADS = {
    "build": build,
    "encrypted_build": encrypted_build,
    "sync": sync,
    "threads": threads,
    "async": async_,
    "encrypted_async": encrypted_async,
    "webhook": webhook,
    "bulk_async": bulk_async,
    "bulk_threads": bulk_threads,
    "bulk_loop": bulk_loop,
    "memory_build": memory_build,
    "memory_async": memory_async,
}
