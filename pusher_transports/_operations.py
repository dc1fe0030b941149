"""Turning `RequestBuilder` methods into client methods, sync and async, without repeating them.

Each client method is the same three steps: build the request with the core, send it
with the transport, parse the response with the core. `sync_operation` and
`async_operation` write those steps once, and `ParamSpec` keeps each method's signature
and docstring visible to type checkers and `help()`.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

from pusher_core.builder import RequestBuilder
from pusher_core.messages import Request, Response

__all__ = ["async_operation", "sync_operation"]

P = ParamSpec("P")
T = TypeVar("T")


class _SyncSender(Protocol):
    builder: RequestBuilder

    def send(self, request: Request) -> Response: ...


class _AsyncSender(Protocol):
    builder: RequestBuilder

    async def send(self, request: Request) -> Response: ...


SyncSenderT = TypeVar("SyncSenderT", bound=_SyncSender)
AsyncSenderT = TypeVar("AsyncSenderT", bound=_AsyncSender)


def sync_operation(
    build: Callable[Concatenate[RequestBuilder, P], Request],
    parse: Callable[[Response, Request], T],
) -> Callable[Concatenate[Any, P], T]:
    """Return a client method that builds, sends and parses one call."""

    @functools.wraps(build)
    def method(self: _SyncSender, /, *args: P.args, **kwargs: P.kwargs) -> T:
        request = build(self.builder, *args, **kwargs)
        return parse(self.send(request), request)

    return method


def async_operation(
    build: Callable[Concatenate[RequestBuilder, P], Request],
    parse: Callable[[Response, Request], T],
) -> Callable[Concatenate[Any, P], Awaitable[T]]:
    """Return an async client method that builds, sends and parses one call."""

    @functools.wraps(build)
    async def method(self: _AsyncSender, /, *args: P.args, **kwargs: P.kwargs) -> T:
        request = build(self.builder, *args, **kwargs)
        return parse(await self.send(request), request)

    return method
