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


class AsyncClientRunner:
    """Calls an `AsyncClient` from blocking code, on a loop in a background thread."""

    def __init__(self, make_client: Callable[[], AsyncClient]) -> None:
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


CLIENT_FACTORIES: dict[str, Callable[[Config], AbstractContextManager[Any]]] = {
    "urllib3": urllib3_client,
    "stdlib-example": stdlib_client,
    "aiohttp": aiohttp_client,
}
