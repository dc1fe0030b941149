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
from contract_tests.transports import AsyncFactory, SyncFactory, TransportOptions
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
        options: The options the transport was built with.
    """

    def __init__(self, name: str, factory: SyncFactory | AsyncFactory, is_async: bool) -> None:
        self.name = name
        self.is_async = is_async
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


async def wait_for_no_connections(server: ContractServer, timeout: float = 2.0) -> bool:
    """Wait, without blocking the event loop, until the server has no open connection."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.open_connections == 0:
            return True
        await asyncio.sleep(0.01)
    return server.open_connections == 0
