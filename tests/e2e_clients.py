"""The clients the end-to-end tests publish through: one per transport.

Each entry is a context manager that yields a client with the blocking interface of
`Client`, so one end-to-end test body checks every adapter against soketi and pusher-js.
Async clients are driven from an event loop in a background thread. Add an entry here
when a transport is added.
"""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Callable, Coroutine, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any

from examples.stdlib_transport import StdlibTransport
from pusher_core import Config
from pusher_transports import AsyncClient, Client
from pusher_transports.pool import KeepAlivePool
from pusher_transports.proxy import AsyncProxyTransport, ProxyTransport
from tests.support.tinyproxy import run_tinyproxy


class AsyncClientRunner:
    """Calls an `AsyncClient` from blocking code, on a loop in a background thread.

    Args:
        make_client: Builds the client, called on the runner's loop.
        close_transport: Close the client's transport too, for a transport that was
            given to the client, which the client then does not close.
    """

    def __init__(
        self, make_client: Callable[[], AsyncClient], *, close_transport: bool = False
    ) -> None:
        self._close_transport = close_transport
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._client = self._run(self._create(make_client))

    @staticmethod
    async def _create(make_client: Callable[[], AsyncClient]) -> AsyncClient:
        return make_client()

    def _run(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=60)

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._client, name)

        @functools.wraps(method)
        def call(*args: Any, **kwargs: Any) -> Any:
            return self._run(method(*args, **kwargs))

        return call

    def close(self) -> None:
        """Close the client, then stop and close the loop."""
        self._run(self._client.close())
        if self._close_transport:
            self._run(self._client.transport.close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()


@contextmanager
def urllib3_client(config: Config) -> Iterator[Client]:
    with Client(config) as client:
        yield client


@contextmanager
def stdlib_client(config: Config) -> Iterator[Client]:
    transport = StdlibTransport()
    try:
        with Client(config, transport) as client:
            yield client
    finally:
        transport.close()


@contextmanager
def aiohttp_client(config: Config) -> Iterator[AsyncClientRunner]:
    # The client creates its own AiohttpTransport, so closing the client closes it.
    runner = AsyncClientRunner(lambda: AsyncClient(config))
    try:
        yield runner
    finally:
        runner.close()


@contextmanager
def keep_alive_pool_client(config: Config) -> Iterator[Client]:
    with KeepAlivePool() as transport, Client(config, transport) as client:
        yield client


@contextmanager
def proxy_urllib3_client(config: Config) -> Iterator[Client]:
    # tinyproxy forwards the http target in absolute form, so soketi checks a signature
    # made over the path while the proxy saw the absolute URL.
    with (
        run_tinyproxy() as proxy,
        ProxyTransport(proxy.url()) as transport,
        Client(config, transport) as client,
    ):
        yield client


@contextmanager
def proxy_aiohttp_client(config: Config) -> Iterator[AsyncClientRunner]:
    with run_tinyproxy() as proxy:
        runner = AsyncClientRunner(
            lambda: AsyncClient(config, AsyncProxyTransport(proxy.url())), close_transport=True
        )
        try:
            yield runner
        finally:
            runner.close()


CLIENT_FACTORIES: dict[str, Callable[[Config], AbstractContextManager[Any]]] = {
    "urllib3": urllib3_client,
    "stdlib-example": stdlib_client,
    "aiohttp": aiohttp_client,
    "keep-alive-pool": keep_alive_pool_client,
    "proxy-urllib3": proxy_urllib3_client,
    "proxy-aiohttp": proxy_aiohttp_client,
}
