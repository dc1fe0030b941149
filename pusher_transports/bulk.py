"""Publishing many independent events as batch requests, from threads or asyncio tasks.

`BulkPublisher` (threads) and `AsyncBulkPublisher` (asyncio) take single events from
many callers and send them as ``batch_events`` requests of up to 10 events. Each call
to ``publish`` validates its event at once, before any I/O, and returns a future that
resolves to that event's own result or error.

How events are grouped:

- Each channel is routed to one of ``lanes`` ordered lanes by a CRC-32 of its name.
  A lane has one batch request in flight at a time and sends its events in the order
  they were published, so events of one channel never reorder. Up to ``lanes`` batch
  requests run at once, one per lane.
- A lane sends as soon as it contains 10 events, or ``linger`` seconds after its oldest
  waiting event arrived, whichever comes first.
- At most ``max_pending`` events may be published and not yet resolved. Beyond that,
  ``publish`` blocks (or awaits), so a fast producer is slowed to the server's pace
  instead of queueing without bound.

When the server rejects a batch of several events with 400 or 413, it published none of
them. The lane then resends each event on its own, in order, so only the event that the
server rejects again gets the error. Any other failure (401, 403, 429, 5xx, a
timeout, a broken connection) is set on every future of that batch without a resend,
because a resend could publish the events twice.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import threading
import time
import zlib
from collections.abc import Sequence
from concurrent.futures import Future
from types import TracebackType
from typing import Any, Protocol

from pusher_core.builder import PreparedEvent, RequestBuilder
from pusher_core.errors import RequestError, ValidationError
from pusher_core.messages import Request, Response
from pusher_core.results import BatchResult, ChannelAttributes, parse_batch_response
from pusher_core.validation import MAX_BATCH_EVENTS

__all__ = [
    "DEFAULT_LANES",
    "DEFAULT_LINGER",
    "DEFAULT_MAX_PENDING",
    "AsyncBulkPublisher",
    "BulkPublisher",
    "lane_for_channel",
]

logger = logging.getLogger("pusher.bulk")

DEFAULT_LANES = 8
DEFAULT_LINGER = 0.005
DEFAULT_MAX_PENDING = 1000

# Statuses for which the server published no event of the batch and blames the content
# (malformed, or too large), so resending the events one by one isolates the bad one.
_SPLIT_STATUSES = frozenset({400, 413})


class _SyncSender(Protocol):
    builder: RequestBuilder

    def send(self, request: Request) -> Response: ...


class _AsyncSender(Protocol):
    builder: RequestBuilder

    async def send(self, request: Request) -> Response: ...


def lane_for_channel(channel: str, lanes: int) -> int:
    """Return the lane index of a channel: stable across processes and runs."""
    return zlib.crc32(channel.encode("ascii")) % lanes


def _check_options(lanes: object, linger: object, max_pending: object, max_batch: object) -> None:
    for name, value in (("lanes", lanes), ("max_pending", max_pending)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValidationError(name, f"must be a positive int, got {value!r}")
    if isinstance(max_batch, bool) or not isinstance(max_batch, int):
        raise ValidationError("max_batch", f"must be an int, got {max_batch!r}")
    if not 1 <= max_batch <= MAX_BATCH_EVENTS:
        raise ValidationError("max_batch", f"must be 1 to {MAX_BATCH_EVENTS}, got {max_batch}")
    if isinstance(linger, bool) or not isinstance(linger, (int, float)) or not 0 <= linger < 60:
        raise ValidationError("linger", f"must be 0 to 60 seconds, got {linger!r}")


def _prepare(
    builder: RequestBuilder,
    channel: str,
    event: str,
    data: Any,
    socket_id: str | None,
    info: str | Sequence[str] | None,
) -> PreparedEvent:
    fields: dict[str, Any] = {"channel": channel, "name": event, "data": data}
    if socket_id is not None:
        fields["socket_id"] = socket_id
    if info is not None:
        fields["info"] = info
    return builder.prepare_batch_event(fields)


# The result of an event that did not ask for `info`. ChannelAttributes is immutable, so
# every such event shares this one.
_NO_ATTRIBUTES = ChannelAttributes()


def _results_per_event(result: BatchResult, count: int) -> list[ChannelAttributes]:
    # The server lists attributes per event only when an event asked for `info`.
    if len(result.batch) == count:
        return list(result.batch)
    return [_NO_ATTRIBUTES] * count


def _is_splittable(error: BaseException, count: int) -> bool:
    return count > 1 and isinstance(error, RequestError) and error.status in _SPLIT_STATUSES


class _Pending:
    """One published event waiting in a lane, with the future its caller holds."""

    __slots__ = ("event", "future", "queued_at")

    def __init__(self, event: PreparedEvent, future: Any, queued_at: float) -> None:
        self.event = event
        self.future = future
        self.queued_at = queued_at


# Threads


class _SyncLane:
    """An ordered queue of events and the thread that sends them in batches."""

    def __init__(self, publisher: BulkPublisher, index: int) -> None:
        self._publisher = publisher
        self._queue: collections.deque[_Pending] = collections.deque()
        self._condition = threading.Condition()
        self._closing = False
        self._flushes = 0
        self._busy = False
        self._thread = threading.Thread(
            target=self._run, name=f"pusher-bulk-lane-{index}", daemon=True
        )
        self._thread.start()

    def put(self, item: _Pending) -> None:
        with self._condition:
            if self._closing:
                raise RuntimeError("the bulk publisher is closed")
            self._queue.append(item)
            # The worker waits either for a first event or for a full batch.
            size = len(self._queue)
            if size == 1 or size >= self._publisher.max_batch:
                self._condition.notify_all()

    def flush(self, timeout: float | None) -> bool:
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._condition:
            self._flushes += 1
            self._condition.notify_all()
            try:
                while self._queue or self._busy:
                    remaining = None if deadline is None else deadline - time.monotonic()
                    if remaining is not None and remaining <= 0:
                        return False
                    self._condition.wait(remaining)
                return True
            finally:
                self._flushes -= 1

    def close(self) -> None:
        with self._condition:
            self._closing = True
            self._condition.notify_all()

    def join(self, timeout: float | None) -> None:
        self._thread.join(timeout)

    def _run(self) -> None:
        while True:
            batch = self._next_batch()
            if batch is None:
                return
            try:
                self._publisher._deliver(batch)
            finally:
                with self._condition:
                    self._busy = False
                    if not self._queue:
                        self._condition.notify_all()

    def _next_batch(self) -> list[_Pending] | None:
        with self._condition:
            while True:
                while not self._queue:
                    if self._closing:
                        return None
                    self._condition.wait()
                self._linger()
                batch, dropped = _take_batch(self._queue, self._publisher.max_batch)
                self._publisher._release(dropped)
                if batch:
                    self._busy = True
                    return batch

    def _linger(self) -> None:
        # Called with the condition held.
        max_batch = self._publisher.max_batch
        deadline = self._queue[0].queued_at + self._publisher.linger
        while len(self._queue) < max_batch and not (self._closing or self._flushes):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            self._condition.wait(remaining)


def _take_batch(queue: collections.deque[_Pending], max_batch: int) -> tuple[list[_Pending], int]:
    """Pop up to `max_batch` events, dropping those whose caller cancelled the future.

    Returns:
        The batch, and how many cancelled events were dropped.
    """
    batch: list[_Pending] = []
    dropped = 0
    while queue and len(batch) < max_batch:
        item = queue.popleft()
        if _claim(item.future):
            batch.append(item)
        else:
            dropped += 1
    return batch, dropped


def _claim(future: Any) -> bool:
    if isinstance(future, Future):
        return future.set_running_or_notify_cancel()
    return not future.cancelled()


class BulkPublisher:
    """Publishes independent events from many threads as batch requests.

    Use it as a context manager, or call `close`: closing sends every event still
    waiting and waits for the results. The client is not closed.

    Args:
        client: A blocking client, such as `pusher_transports.Client`. Its builder
            validates and signs, and its ``send`` carries the batch requests.
        lanes: Ordered lanes, each with its own thread and at most one request in flight.
        linger: Seconds a lane waits for a batch to fill after its oldest event arrived.
        max_pending: Events published but not yet resolved before ``publish`` blocks.
        max_batch: Events per batch request, 1 to 10.

    Raises:
        ValidationError: An option is out of range.

    Example::

        with Client(config) as client, BulkPublisher(client) as publisher:
            futures = [publisher.publish("orders", "created", order) for order in orders]
        failed = [future.exception() for future in futures if future.exception()]
    """

    def __init__(
        self,
        client: _SyncSender,
        *,
        lanes: int = DEFAULT_LANES,
        linger: float = DEFAULT_LINGER,
        max_pending: int = DEFAULT_MAX_PENDING,
        max_batch: int = MAX_BATCH_EVENTS,
    ) -> None:
        _check_options(lanes, linger, max_pending, max_batch)
        self.client = client
        self.linger = float(linger)
        self.max_batch = max_batch
        self._places = threading.BoundedSemaphore(max_pending)
        self._closed = False
        self._lanes = [_SyncLane(self, index) for index in range(lanes)]

    def __repr__(self) -> str:
        return f"<BulkPublisher lanes={len(self._lanes)} closed={self._closed}>"

    def publish(
        self,
        channel: str,
        event: str,
        data: Any,
        *,
        socket_id: str | None = None,
        info: str | Sequence[str] | None = None,
        timeout: float | None = None,
    ) -> Future[ChannelAttributes]:
        """Validate one event and queue it, blocking while ``max_pending`` events are pending.

        Args:
            channel: One channel name.
            event: The event name.
            data: The event data, as `RequestBuilder.trigger` takes it.
            socket_id: A connection to exclude from the recipients.
            info: Channel attributes to return in the result.
            timeout: Seconds to wait for room, or None to wait as long as it takes.

        Returns:
            A future with the event's `ChannelAttributes`, or its `PusherError`. Cancelling
            the future before its batch is sent removes the event.

        Raises:
            ValidationError: The event is invalid; nothing was queued.
            TimeoutError: No room was free within `timeout`.
            RuntimeError: The publisher is closed.
        """
        if self._closed:
            raise RuntimeError("the bulk publisher is closed")
        prepared = _prepare(self.client.builder, channel, event, data, socket_id, info)
        if not self._places.acquire(timeout=timeout):
            raise TimeoutError(f"no room for another event within {timeout} s")
        future: Future[ChannelAttributes] = Future()
        lane = self._lanes[lane_for_channel(prepared.channel, len(self._lanes))]
        try:
            lane.put(_Pending(prepared, future, time.monotonic()))
        except RuntimeError:
            self._places.release()
            raise
        return future

    def flush(self, timeout: float | None = None) -> bool:
        """Send every waiting event now and wait for the results.

        Returns:
            True when every lane was idle before `timeout` seconds passed.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        for lane in self._lanes:
            remaining = None if deadline is None else max(deadline - time.monotonic(), 0.0)
            if not lane.flush(remaining):
                return False
        return True

    def close(self, timeout: float | None = None) -> None:
        """Send every waiting event, wait for the results and stop the lane threads."""
        self._closed = True
        for lane in self._lanes:
            lane.close()
        for lane in self._lanes:
            lane.join(timeout)

    def __enter__(self) -> BulkPublisher:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _release(self, count: int) -> None:
        for _ in range(count):
            self._places.release()

    def _deliver(self, batch: list[_Pending]) -> None:
        events = [item.event for item in batch]
        try:
            request = self.client.builder.trigger_prepared(events)
            result = parse_batch_response(self.client.send(request), request)
        except Exception as error:
            # Every failure, even an unexpected one, must reach the callers' futures, or
            # they would wait forever; the lane thread itself must keep running.
            if _is_splittable(error, len(batch)):
                for item in batch:
                    self._deliver([item])
                return
            logger.debug("batch of %d events failed: %s", len(batch), type(error).__name__)
            for item in batch:
                item.future.set_exception(error)
                self._places.release()
            return
        for item, attributes in zip(batch, _results_per_event(result, len(batch)), strict=True):
            item.future.set_result(attributes)
            self._places.release()


# asyncio


class _AsyncLane:
    """An ordered queue of events and the task that sends them in batches."""

    def __init__(self, publisher: AsyncBulkPublisher) -> None:
        self._publisher = publisher
        self._queue: collections.deque[_Pending] = collections.deque()
        self._loop = asyncio.get_running_loop()
        self._waiter: asyncio.Future[None] | None = None
        self._drained = asyncio.Event()
        self._drained.set()
        self._closing = False
        self._flushes = 0
        self._task = self._loop.create_task(self._run())

    def put(self, item: _Pending) -> None:
        if self._closing:
            raise RuntimeError("the bulk publisher is closed")
        self._queue.append(item)
        self._drained.clear()
        size = len(self._queue)
        if size == 1 or size >= self._publisher.max_batch:
            self._wake()

    async def flush(self) -> None:
        self._flushes += 1
        self._wake()
        try:
            await self._drained.wait()
        finally:
            self._flushes -= 1

    async def close(self) -> None:
        self._closing = True
        self._wake()
        await self._task

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)

    async def _wait(self, timeout: float | None) -> None:
        waiter = self._loop.create_future()
        self._waiter = waiter
        handle = None
        if timeout is not None:
            handle = self._loop.call_later(timeout, _resolve, waiter)
        try:
            await waiter
        finally:
            self._waiter = None
            if handle is not None:
                handle.cancel()

    async def _run(self) -> None:
        batch: list[_Pending] = []
        try:
            while True:
                batch = await self._next_batch()
                if not batch:
                    return
                await self._publisher._deliver(batch)
                batch = []
                if not self._queue:
                    self._drained.set()
        finally:
            # Events are left here only when the task was cancelled; their callers must
            # not wait forever, so their futures are cancelled too.
            leftover = [item for item in (*batch, *self._queue) if not item.future.done()]
            for item in leftover:
                item.future.cancel()
            self._publisher._release(len(leftover))
            self._queue.clear()
            self._drained.set()

    async def _next_batch(self) -> list[_Pending]:
        """Return the next batch to send, or an empty list once the lane is closed."""
        while True:
            while not self._queue:
                self._drained.set()
                if self._closing:
                    return []
                await self._wait(None)
            await self._linger()
            batch, dropped = _take_batch(self._queue, self._publisher.max_batch)
            self._publisher._release(dropped)
            if batch:
                return batch

    async def _linger(self) -> None:
        max_batch = self._publisher.max_batch
        deadline = self._queue[0].queued_at + self._publisher.linger
        while len(self._queue) < max_batch and not (self._closing or self._flushes):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            await self._wait(remaining)


def _resolve(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


class AsyncBulkPublisher:
    """Publishes independent events from many asyncio tasks as batch requests.

    The asyncio twin of `BulkPublisher`, with the same options. Use it with
    ``async with``, or await `close`: closing sends every event still waiting and waits
    for the results. The client is not closed. Create and use it on one event loop.

    Example::

        async with AsyncClient(config) as client, AsyncBulkPublisher(client) as publisher:
            futures = [await publisher.publish("orders", "created", o) for o in orders]
            results = await asyncio.gather(*futures, return_exceptions=True)
    """

    def __init__(
        self,
        client: _AsyncSender,
        *,
        lanes: int = DEFAULT_LANES,
        linger: float = DEFAULT_LINGER,
        max_pending: int = DEFAULT_MAX_PENDING,
        max_batch: int = MAX_BATCH_EVENTS,
    ) -> None:
        _check_options(lanes, linger, max_pending, max_batch)
        self.client = client
        self.linger = float(linger)
        self.max_batch = max_batch
        self._lane_count = lanes
        self._max_pending = max_pending
        self._closed = False
        # Created on first use, because asyncio objects belong to the running loop.
        self._places: asyncio.Semaphore | None = None
        self._lanes: list[_AsyncLane] = []

    def __repr__(self) -> str:
        return f"<AsyncBulkPublisher lanes={self._lane_count} closed={self._closed}>"

    async def publish(
        self,
        channel: str,
        event: str,
        data: Any,
        *,
        socket_id: str | None = None,
        info: str | Sequence[str] | None = None,
    ) -> asyncio.Future[ChannelAttributes]:
        """Validate one event and queue it, waiting while ``max_pending`` events are pending.

        Takes the arguments of `BulkPublisher.publish`; wrap the call in
        `asyncio.wait_for` to bound the wait for room.

        Returns:
            A future with the event's `ChannelAttributes`, or its `PusherError`. Cancelling
            the future before its batch is sent removes the event.

        Raises:
            ValidationError: The event is invalid; nothing was queued.
            RuntimeError: The publisher is closed.
        """
        if self._closed:
            raise RuntimeError("the bulk publisher is closed")
        prepared = _prepare(self.client.builder, channel, event, data, socket_id, info)
        places = self._start()
        await places.acquire()
        if self._closed:
            places.release()
            raise RuntimeError("the bulk publisher is closed")
        future: asyncio.Future[ChannelAttributes] = asyncio.get_running_loop().create_future()
        lane = self._lanes[lane_for_channel(prepared.channel, self._lane_count)]
        lane.put(_Pending(prepared, future, time.monotonic()))
        return future

    async def flush(self) -> None:
        """Send every waiting event now and wait for the results."""
        for lane in self._lanes:
            await lane.flush()

    async def close(self) -> None:
        """Send every waiting event, wait for the results and stop the lane tasks."""
        self._closed = True
        for lane in self._lanes:
            await lane.close()

    async def __aenter__(self) -> AsyncBulkPublisher:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    def _start(self) -> asyncio.Semaphore:
        if self._places is None:
            self._places = asyncio.Semaphore(self._max_pending)
            self._lanes = [_AsyncLane(self) for _ in range(self._lane_count)]
        return self._places

    def _release(self, count: int) -> None:
        if self._places is not None:
            for _ in range(count):
                self._places.release()

    async def _deliver(self, batch: list[_Pending]) -> None:
        events = [item.event for item in batch]
        try:
            request = self.client.builder.trigger_prepared(events)
            result = parse_batch_response(await self.client.send(request), request)
        except Exception as error:
            # As in `BulkPublisher._deliver`: every failure goes to the futures.
            if _is_splittable(error, len(batch)):
                for item in batch:
                    await self._deliver([item])
                return
            logger.debug("batch of %d events failed: %s", len(batch), type(error).__name__)
            for item in batch:
                _settle(item.future, error=error)
            self._release(len(batch))
            return
        for item, attributes in zip(batch, _results_per_event(result, len(batch)), strict=True):
            _settle(item.future, result=attributes)
        self._release(len(batch))


def _settle(
    future: asyncio.Future[ChannelAttributes],
    *,
    result: ChannelAttributes | None = None,
    error: BaseException | None = None,
) -> None:
    # A caller may cancel its future while the batch is in flight; that is not an error.
    if future.done():
        return
    if error is not None:
        future.set_exception(error)
    elif result is not None:
        future.set_result(result)
