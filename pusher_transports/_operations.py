"""Turning `RequestBuilder` methods into client methods, sync and async, without repeating them.

Each client method is the same steps: build the request with the core, send it with the
transport, parse the response with the core, and, when the client has a `RetryPolicy`,
retry what the policy allows. `sync_operation` and `async_operation` write those steps
once, and `ParamSpec` keeps each method's signature and docstring visible to type
checkers and `help()`.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

from pusher_core.builder import RequestBuilder
from pusher_core.errors import PusherError, RequestError, TransportError
from pusher_core.messages import Request, Response
from pusher_core.retry import RetryPolicy

__all__ = ["async_operation", "call_async", "call_sync", "sync_operation"]

P = ParamSpec("P")
T = TypeVar("T")

logger = logging.getLogger("pusher.retry")

# Only failures of the exchange itself are retried; bad input and bad bodies never are.
_RETRYABLE = (TransportError, RequestError)


class _SyncSender(Protocol):
    builder: RequestBuilder

    def send(self, request: Request) -> Response: ...


class _AsyncSender(Protocol):
    builder: RequestBuilder

    async def send(self, request: Request) -> Response: ...


def _next_delay(sender: object, request: Request, attempt: int, error: PusherError) -> float | None:
    policy: RetryPolicy | None = getattr(sender, "retry", None)
    if policy is None:
        return None
    delay = policy.delay_after(request, attempt, error, time.time())
    logger.debug(
        "retry decision: %s %s attempt %d failed with %s; %s",
        request.method,
        request.path,
        attempt,
        type(error).__name__,
        "giving up" if delay is None else f"retrying in {delay:.3f} s",
    )
    return delay


def call_sync(sender: _SyncSender, request: Request, parse: Callable[[Response, Request], T]) -> T:
    """Send a request, parse the response, and retry as the sender's policy allows."""
    attempt = 1
    while True:
        try:
            return parse(sender.send(request), request)
        except _RETRYABLE as error:
            delay = _next_delay(sender, request, attempt, error)
            if delay is None:
                raise
        time.sleep(delay)
        attempt += 1


async def call_async(
    sender: _AsyncSender, request: Request, parse: Callable[[Response, Request], T]
) -> T:
    """Send a request, parse the response, and retry as the sender's policy allows."""
    attempt = 1
    while True:
        try:
            return parse(await sender.send(request), request)
        except _RETRYABLE as error:
            delay = _next_delay(sender, request, attempt, error)
            if delay is None:
                raise
        await asyncio.sleep(delay)
        attempt += 1


def sync_operation(
    build: Callable[Concatenate[RequestBuilder, P], Request],
    parse: Callable[[Response, Request], T],
) -> Callable[Concatenate[Any, P], T]:
    """Return a client method that builds, sends and parses one call."""

    @functools.wraps(build)
    def method(self: _SyncSender, /, *args: P.args, **kwargs: P.kwargs) -> T:
        return call_sync(self, build(self.builder, *args, **kwargs), parse)

    return method


def async_operation(
    build: Callable[Concatenate[RequestBuilder, P], Request],
    parse: Callable[[Response, Request], T],
) -> Callable[Concatenate[Any, P], Awaitable[T]]:
    """Return an async client method that builds, sends and parses one call."""

    @functools.wraps(build)
    async def method(self: _AsyncSender, /, *args: P.args, **kwargs: P.kwargs) -> T:
        request = build(self.builder, *args, **kwargs)
        if getattr(self, "retry", None) is None:
            # Without a policy `call_async` raises the first failure, so awaiting the
            # send here does the same with one coroutine fewer per call.
            return parse(await self.send(request), request)
        return await call_async(self, request, parse)

    return method
