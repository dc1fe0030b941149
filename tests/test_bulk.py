"""Unit tests of the bulk publishers, with recording fake transports instead of a server."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pusher_core import (
    BadRequestError,
    ChannelAttributes,
    Config,
    PayloadTooLargeError,
    Request,
    RequestBuilder,
    Response,
    ServerError,
    ValidationError,
)
from pusher_transports.bulk import AsyncBulkPublisher, BulkPublisher, lane_for_channel

CONFIG = Config(app_id="1", key="key", secret="secret", host="127.0.0.1", tls=False)

Batch = list[dict[str, Any]]
Reply = Callable[[Batch], Response]


def ok_reply(batch: Batch) -> Response:
    return Response(status=200, body=b"{}")


def reject_marked(batch: Batch) -> Response:
    """Reject, as Channels does, any batch that contains an event named ``bad``."""
    if any(event["name"] == "bad" for event in batch):
        return Response(status=400, body=b"invalid event")
    return Response(status=200, body=b"{}")


class RecordingSender:
    """A blocking client stand-in that records each batch and replies with `reply`."""

    def __init__(self, reply: Reply = ok_reply, delay: float = 0.0) -> None:
        self.builder = RequestBuilder(CONFIG)
        self.reply = reply
        self.delay = delay
        self.batches: list[Batch] = []
        self.gate = threading.Event()
        self.gate.set()
        self._lock = threading.Lock()

    def send(self, request: Request) -> Response:
        assert request.path == "/apps/1/batch_events"
        batch = json.loads(request.body)["batch"]
        with self._lock:
            self.batches.append(batch)
        self.gate.wait(10)
        if self.delay:
            time.sleep(self.delay)
        return self.reply(batch)

    def events(self) -> list[dict[str, Any]]:
        with self._lock:
            return [event for batch in self.batches for event in batch]


class AsyncRecordingSender:
    """The asyncio twin of `RecordingSender`."""

    def __init__(self, reply: Reply = ok_reply, delay: float = 0.0) -> None:
        self.builder = RequestBuilder(CONFIG)
        self.reply = reply
        self.delay = delay
        self.batches: list[Batch] = []
        self.gate = asyncio.Event()
        self.gate.set()

    async def send(self, request: Request) -> Response:
        batch = json.loads(request.body)["batch"]
        self.batches.append(batch)
        await self.gate.wait()
        await asyncio.sleep(self.delay)
        return self.reply(batch)

    def events(self) -> list[dict[str, Any]]:
        return [event for batch in self.batches for event in batch]


def sequences_by_channel(events: list[dict[str, Any]]) -> dict[str, list[int]]:
    sequences: dict[str, list[int]] = defaultdict(list)
    for event in events:
        sequences[event["channel"]].append(json.loads(event["data"])["seq"])
    return sequences


# Options and helpers


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("lanes", 0),
        ("lanes", True),
        ("max_pending", 0),
        ("max_batch", 11),
        ("max_batch", 0),
        ("linger", -1),
        ("linger", "5ms"),
    ],
)
def test_options_out_of_range(option: str, value: Any) -> None:
    with pytest.raises(ValidationError) as caught:
        BulkPublisher(RecordingSender(), **{option: value})
    assert caught.value.field == option
    with pytest.raises(ValidationError):
        AsyncBulkPublisher(AsyncRecordingSender(), **{option: value})


def test_lane_for_channel_is_stable() -> None:
    assert lane_for_channel("orders", 8) == lane_for_channel("orders", 8)
    assert {lane_for_channel(f"c{i}", 4) for i in range(100)} == {0, 1, 2, 3}


def test_prepared_batch_matches_trigger_batch() -> None:
    builder = RequestBuilder(CONFIG, clock=lambda: 1700000000)
    events = [
        {"channel": "a", "name": "e", "data": {"n": 1}, "socket_id": "1.2"},
        {"channel": "b", "name": "f", "data": "text", "info": ["subscription_count"]},
    ]
    prepared = [builder.prepare_batch_event(event) for event in events]

    assert builder.trigger_prepared(prepared) == builder.trigger_batch(events)


def test_trigger_prepared_rejects_counts() -> None:
    builder = RequestBuilder(CONFIG)
    event = builder.prepare_batch_event({"channel": "a", "name": "e", "data": 1})
    with pytest.raises(ValidationError):
        builder.trigger_prepared([])
    with pytest.raises(ValidationError):
        builder.trigger_prepared([event] * 11)


# Threads


def test_sync_every_event_once_in_batches() -> None:
    sender = RecordingSender()
    with BulkPublisher(sender, lanes=3, linger=0.05) as publisher:
        futures = [
            publisher.publish(f"channel-{i % 4}", "tick", {"seq": i // 4}) for i in range(100)
        ]

    assert all(future.result(0) == ChannelAttributes() for future in futures)
    assert all(1 <= len(batch) <= 10 for batch in sender.batches)
    assert len(sender.events()) == 100
    for channel, sequence in sequences_by_channel(sender.events()).items():
        assert sequence == list(range(25)), channel


def test_sync_batches_fill_during_linger() -> None:
    sender = RecordingSender()
    with BulkPublisher(sender, lanes=1, linger=1.0) as publisher:
        futures = [publisher.publish("c", "e", {"seq": i}) for i in range(20)]
        for future in futures:
            future.result(5)

    assert [len(batch) for batch in sender.batches] == [10, 10]


def test_sync_order_kept_across_threads() -> None:
    sender = RecordingSender(delay=0.001)
    with BulkPublisher(sender, lanes=4, linger=0.002, max_pending=50) as publisher:

        def produce(channel: str) -> None:
            for seq in range(200):
                publisher.publish(channel, "e", {"seq": seq})

        threads = [threading.Thread(target=produce, args=(f"t{n}",)) for n in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    sequences = sequences_by_channel(sender.events())
    assert sorted(sequences) == [f"t{n}" for n in range(6)]
    for channel, sequence in sequences.items():
        assert sequence == list(range(200)), channel


def test_sync_invalid_event_raises_at_publish() -> None:
    sender = RecordingSender()
    with BulkPublisher(sender) as publisher:
        good = publisher.publish("ok", "e", 1)
        with pytest.raises(ValidationError) as caught:
            publisher.publish("bad channel", "e", 1)
        assert caught.value.field == "events[0].channel"
        with pytest.raises(ValidationError):
            publisher.publish("ok", "e", float("nan"))

    assert good.result(0) == ChannelAttributes()
    assert len(sender.events()) == 1


def test_sync_rejected_event_fails_alone() -> None:
    sender = RecordingSender(reject_marked)
    with BulkPublisher(sender, lanes=1, linger=1.0) as publisher:
        names = ["good"] * 4 + ["bad"] + ["good"] * 5
        futures = [publisher.publish("c", name, {"seq": i}) for i, name in enumerate(names)]

    assert isinstance(futures[4].exception(0), BadRequestError)
    assert [future.exception(0) for i, future in enumerate(futures) if i != 4] == [None] * 9
    # The whole batch first, then each event alone, in order.
    assert [len(batch) for batch in sender.batches] == [10] + [1] * 10
    resent = [json.loads(batch[0]["data"])["seq"] for batch in sender.batches[1:]]
    assert resent == list(range(10))


def test_sync_server_error_fails_batch_without_resend() -> None:
    sender = RecordingSender(lambda batch: Response(status=503, body=b"busy"))
    with BulkPublisher(sender, lanes=1, linger=1.0) as publisher:
        futures = [publisher.publish("c", "e", i) for i in range(3)]

    errors = [future.exception(0) for future in futures]
    assert all(isinstance(error, ServerError) for error in errors)
    assert len(sender.batches) == 1


def test_sync_in_band_rejection_splits() -> None:
    # soketi 1.6 sends a rejection with status 200 and the code in the body.
    def reply(batch: Batch) -> Response:
        if len(batch) > 1:
            return Response(status=200, body=b'{"error":"too large","code":413}')
        return Response(status=200, body=b"{}")

    sender = RecordingSender(reply)
    with BulkPublisher(sender, lanes=1, linger=1.0) as publisher:
        futures = [publisher.publish("c", "e", i) for i in range(2)]

    assert [future.exception(0) for future in futures] == [None, None]
    assert [len(batch) for batch in sender.batches] == [2, 1, 1]


def test_sync_info_attributes_per_event() -> None:
    def reply(batch: Batch) -> Response:
        entries = [{"subscription_count": index} for index in range(len(batch))]
        return Response(status=200, body=json.dumps({"batch": entries}).encode())

    sender = RecordingSender(reply)
    with BulkPublisher(sender, lanes=1, linger=1.0) as publisher:
        futures = [publisher.publish("c", "e", i, info=["subscription_count"]) for i in range(3)]

    assert [future.result(0).subscription_count for future in futures] == [0, 1, 2]
    assert all(event["info"] == "subscription_count" for event in sender.events())


def test_sync_back_pressure_times_out() -> None:
    sender = RecordingSender()
    sender.gate.clear()
    publisher = BulkPublisher(sender, lanes=1, linger=0, max_pending=2)
    try:
        publisher.publish("c", "e", 1)
        publisher.publish("c", "e", 2)
        with pytest.raises(TimeoutError):
            publisher.publish("c", "e", 3, timeout=0.05)
    finally:
        sender.gate.set()
        publisher.close()
    assert len(sender.events()) == 2


def test_sync_cancelled_event_not_sent() -> None:
    sender = RecordingSender()
    with BulkPublisher(sender, lanes=1, linger=1.0, max_pending=2) as publisher:
        dropped = publisher.publish("c", "e", "dropped")
        assert dropped.cancel()
        kept = publisher.publish("c", "e", "kept")
        # Both places are free again once the batch is resolved.
        assert publisher.flush(5)
        publisher.publish("c", "e", "one", timeout=1)
        publisher.publish("c", "e", "two", timeout=1)

    assert kept.result(0) == ChannelAttributes()
    assert [event["data"] for event in sender.events()] == ["kept", "one", "two"]


def test_sync_close_flushes_and_rejects_new_events() -> None:
    sender = RecordingSender()
    publisher = BulkPublisher(sender, linger=30)
    future = publisher.publish("c", "e", 1)
    started = time.monotonic()
    publisher.close()

    assert time.monotonic() - started < 5
    assert future.result(0) == ChannelAttributes()
    with pytest.raises(RuntimeError):
        publisher.publish("c", "e", 2)


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.sampled_from(["a", "b", "c", "d", "e"]), min_size=1, max_size=60),
    st.integers(min_value=1, max_value=4),
    st.integers(min_value=1, max_value=10),
)
def test_sync_order_property(channels: list[str], lanes: int, max_batch: int) -> None:
    sender = RecordingSender(reject_marked)
    counters: dict[str, int] = defaultdict(int)
    with BulkPublisher(sender, lanes=lanes, linger=0.001, max_batch=max_batch) as publisher:
        for channel in channels:
            publisher.publish(channel, "e", {"seq": counters[channel]})
            counters[channel] += 1

    assert all(len(batch) <= max_batch for batch in sender.batches)
    sequences = sequences_by_channel(sender.events())
    assert {channel: len(sequence) for channel, sequence in sequences.items()} == counters
    for channel, sequence in sequences.items():
        assert sequence == sorted(sequence), channel


# asyncio


async def test_async_every_event_once_in_order() -> None:
    sender = AsyncRecordingSender(delay=0.001)
    async with AsyncBulkPublisher(sender, lanes=4, linger=0.002, max_pending=40) as publisher:

        async def produce(channel: str) -> list[asyncio.Future[ChannelAttributes]]:
            return [await publisher.publish(channel, "e", {"seq": seq}) for seq in range(100)]

        produced = await asyncio.gather(*(produce(f"t{n}") for n in range(6)))

    futures = [future for group in produced for future in group]
    assert all(future.result() == ChannelAttributes() for future in futures)
    assert all(1 <= len(batch) <= 10 for batch in sender.batches)
    sequences = sequences_by_channel(sender.events())
    assert sorted(sequences) == [f"t{n}" for n in range(6)]
    for channel, sequence in sequences.items():
        assert sequence == list(range(100)), channel


async def test_async_batches_fill_during_linger() -> None:
    sender = AsyncRecordingSender()
    async with AsyncBulkPublisher(sender, lanes=1, linger=1.0) as publisher:
        futures = [await publisher.publish("c", "e", {"seq": i}) for i in range(25)]
        await asyncio.wait_for(asyncio.gather(*futures[:20]), 5)
        assert [len(batch) for batch in sender.batches] == [10, 10]

    assert [len(batch) for batch in sender.batches] == [10, 10, 5]


async def test_async_rejected_event_fails_alone() -> None:
    sender = AsyncRecordingSender(reject_marked)
    async with AsyncBulkPublisher(sender, lanes=1, linger=1.0) as publisher:
        names = ["good", "bad", "good"]
        futures = [await publisher.publish("c", name, i) for i, name in enumerate(names)]
        results = await asyncio.gather(*futures, return_exceptions=True)

    assert results[0] == ChannelAttributes()
    assert isinstance(results[1], BadRequestError)
    assert results[2] == ChannelAttributes()
    assert [len(batch) for batch in sender.batches] == [3, 1, 1, 1]


async def test_async_oversized_batch_splits() -> None:
    def reply(batch: Batch) -> Response:
        return Response(status=413 if len(batch) > 1 else 200, body=b"{}")

    sender = AsyncRecordingSender(reply)
    async with AsyncBulkPublisher(sender, lanes=1, linger=1.0) as publisher:
        futures = [await publisher.publish("c", "e", i) for i in range(4)]

    assert [future.exception() for future in futures] == [None] * 4
    assert not isinstance(futures[0].exception(), PayloadTooLargeError)
    assert [len(batch) for batch in sender.batches] == [4, 1, 1, 1, 1]


async def test_async_invalid_event_raises_at_publish() -> None:
    sender = AsyncRecordingSender()
    async with AsyncBulkPublisher(sender) as publisher:
        with pytest.raises(ValidationError):
            await publisher.publish("c", "", 1)
        future = await publisher.publish("c", "e", 1)

    assert future.result() == ChannelAttributes()
    assert len(sender.events()) == 1


async def test_async_back_pressure_waits() -> None:
    sender = AsyncRecordingSender()
    sender.gate.clear()
    async with AsyncBulkPublisher(sender, lanes=1, linger=0, max_pending=2) as publisher:
        await publisher.publish("c", "e", 1)
        await publisher.publish("c", "e", 2)
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(publisher.publish("c", "e", 3), 0.05)
        sender.gate.set()
        third = await asyncio.wait_for(publisher.publish("c", "e", 4), 5)

    assert third.result() == ChannelAttributes()
    assert [event["data"] for event in sender.events()] == ["1", "2", "4"]


async def test_async_server_error_reaches_every_caller() -> None:
    sender = AsyncRecordingSender(lambda batch: Response(status=500, body=b"oops"))
    async with AsyncBulkPublisher(sender, lanes=1, linger=1.0) as publisher:
        futures = [await publisher.publish("c", "e", i) for i in range(3)]

    assert all(isinstance(future.exception(), ServerError) for future in futures)
    assert len(sender.batches) == 1


async def test_async_flush_cuts_linger() -> None:
    sender = AsyncRecordingSender()
    async with AsyncBulkPublisher(sender, linger=30) as publisher:
        future = await publisher.publish("c", "e", 1)
        await asyncio.wait_for(publisher.flush(), 5)
        assert future.result() == ChannelAttributes()


async def test_async_close_rejects_new_events() -> None:
    sender = AsyncRecordingSender()
    publisher = AsyncBulkPublisher(sender)
    await publisher.publish("c", "e", 1)
    await asyncio.wait_for(publisher.close(), 5)

    with pytest.raises(RuntimeError):
        await publisher.publish("c", "e", 2)
    assert len(sender.events()) == 1


async def test_async_cancelled_event_not_sent() -> None:
    sender = AsyncRecordingSender()
    async with AsyncBulkPublisher(sender, lanes=1, linger=1.0) as publisher:
        dropped = await publisher.publish("c", "e", "dropped")
        dropped.cancel()
        kept = await publisher.publish("c", "e", "kept")

    assert kept.result() == ChannelAttributes()
    assert [event["data"] for event in sender.events()] == ["kept"]
