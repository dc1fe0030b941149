"""One face for sync and async transports, so each contract case is written once.

A case is an ``async def`` test. It talks to a `Subject`, which runs a sync transport in
a worker thread or awaits an async one, and builds the matching `Client` or
`AsyncClient` for cases that go through the core's status handling. Every call has a
hard limit of its timeout plus `HANG_MARGIN` seconds, so a transport that hangs fails
its case instead of stalling the suite.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Awaitable, Callable
from typing import Any

from contract_tests.server import ContractServer
from contract_tests.transports import (
    AsyncFactory,
    ConnectionCounts,
    SyncFactory,
    TransportOptions,
)
from pusher_core.config import Config
from pusher_core.messages import Request, Response
from pusher_transports.async_client import AsyncClient
from pusher_transports.base import AsyncTransport, SyncTransport
from pusher_transports.client import Client

__all__ = [
    "APP_SECRET",
    "HANG_MARGIN",
    "Subject",
    "config_for",
    "elapsed",
    "request_for",
    "wait_for_no_connections",
]

# Seconds past the request timeout after which a call counts as hung.
HANG_MARGIN = 5.0

# A recognisable secret, so a case can search logs and errors for it.
APP_SECRET = "contract-secret-7f3a9c"


def config_for(server: ContractServer, timeout: float = 5.0) -> Config:
    """Return an app configuration that points at a loopback server."""
    return Config(
        app_id="4242",
        key="contract-key",
        secret=APP_SECRET,
        host=server.host,
        port=server.port,
        tls=False,
        timeout=timeout,
    )


def request_for(server: ContractServer, **changes: Any) -> Request:
    """Return a plain GET aimed at a server, with fields overridden by ``changes``."""
    fields: dict[str, Any] = {
        "method": "GET",
        "scheme": "http",
        "host": server.host,
        "port": server.port,
        "path": "/apps/4242/channels",
        "query": (),
        "headers": (),
        "body": b"",
        "timeout": 5.0,
    }
    fields.update(changes)
    return Request(**fields)


class Subject:
    """A transport under test, sync or async, with the client that wraps it.

    Attributes:
        name: The registry name, used as the pytest id.
        is_async: Whether the transport is an `AsyncTransport`.
        tags: The transport's tags from the registry, such as ``"proxy"``.
        options: The options the transport was built with.
    """

    def __init__(
        self,
        name: str,
        factory: SyncFactory | AsyncFactory,
        is_async: bool,
        *,
        tags: frozenset[str] = frozenset(),
    ) -> None:
        self.name = name
        self.is_async = is_async
        self.tags = tags
        self.options = TransportOptions()
        self._factory = factory
        self._transports: list[SyncTransport | AsyncTransport] = []
        self.transport = self.new_transport()

    def new_transport(self, **changes: Any) -> Any:
        """Build another transport, with option fields replaced by ``changes``.

        `close` closes it too. Cases for tagged transports pass fields that such
        factories read, such as a proxy address.
        """
        transport = self._factory(dataclasses.replace(self.options, **changes))
        self._transports.append(transport)
        return transport

    def own_connections(self, server: ContractServer) -> ConnectionCounts:
        """Return the counts of the connections this subject's transports opened.

        That is the server's own counts, unless a factory put a helper such as a proxy
        in between and registered counters in ``options.connection_counters``.
        """
        counters = self.options.connection_counters
        if not counters:
            return server
        return _CombinedCounts(tuple(counters))

    async def send(self, request: Request) -> Response:
        """Send through the transport and return the response."""
        if self.is_async:
            response: Response = await _bounded(self.transport.send(request), request.timeout)
        else:
            call = asyncio.to_thread(self.transport.send, request)
            response = await _bounded(call, request.timeout)
        return response

    async def call(self, config: Config, method: str, *args: Any, **kwargs: Any) -> Any:
        """Call a client method through a client built on this transport."""
        if self.is_async:
            bound = getattr(AsyncClient(config, self.transport), method)
            return await _bounded(bound(*args, **kwargs), config.timeout)
        bound = getattr(Client(config, self.transport), method)
        return await _bounded(asyncio.to_thread(bound, *args, **kwargs), config.timeout)

    async def close_transport(self) -> None:
        """Close the main transport; the teardown's `close` closes it once more."""
        result = self.transport.close()
        if isinstance(result, Awaitable):
            await result

    async def close(self) -> None:
        """Close every transport built, then run the factory's cleanups."""
        while self._transports:
            transport = self._transports.pop()
            result = transport.close()
            if isinstance(result, Awaitable):
                await result
        self.options.cleanups.close()


class _CombinedCounts:
    """The counts of several transports, one counter each, as one `ConnectionCounts`."""

    def __init__(self, counters: tuple[ConnectionCounts, ...]) -> None:
        self._counters = counters

    @property
    def connections_opened(self) -> int:
        return sum(counter.connections_opened for counter in self._counters)

    @property
    def open_connections(self) -> int:
        return sum(counter.open_connections for counter in self._counters)

    @property
    def max_concurrent_connections(self) -> int:
        # Each counter belongs to one transport, and the limit applies per transport.
        return max(counter.max_concurrent_connections for counter in self._counters)


async def _bounded(call: Awaitable[Any], timeout: float) -> Any:
    limit = timeout + HANG_MARGIN
    try:
        return await asyncio.wait_for(call, limit)
    except asyncio.TimeoutError:
        # A RequestTimeoutError is not an asyncio.TimeoutError, so only a hang lands here.
        raise AssertionError(f"the transport hung: no result within {limit} s") from None


async def elapsed(action: Callable[[], Awaitable[Any]]) -> tuple[float, BaseException | None]:
    """Run an action and return the seconds it took and the exception it raised, if any."""
    start = time.monotonic()
    try:
        await action()
    except Exception as exc:
        return time.monotonic() - start, exc
    return time.monotonic() - start, None


async def wait_for_no_connections(server: ConnectionCounts, timeout: float = 2.0) -> bool:
    """Wait, without blocking the event loop, until the counts show no open connection."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.open_connections == 0:
            return True
        await asyncio.sleep(0.01)
    return server.open_connections == 0
