"""Fixtures that run the real peers: soketi, pusher-js subscribers and loopback HTTP servers."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import settings

from tests.support.http_server import Handler
from tests.support.peers import (
    LoopbackHTTPServer,
    SoketiServer,
    Subscriber,
    check_node_peers,
    run_soketi,
    subscriber_config,
)

# CI runs the property tests on a fixed sequence of examples, so its result depends on
# the code alone. Other runs explore new examples, and Hypothesis prints how to replay a failure.
settings.register_profile("ci", derandomize=True, database=None)
if os.environ.get("CI"):
    settings.load_profile("ci")


@pytest.fixture(scope="session")
def soketi() -> Iterator[SoketiServer]:
    """One soketi server for the whole session, with app ``app-id``/``app-key``/``app-secret``.

    Fails, rather than skips, when node or peers/node_modules is missing. The
    error message then names the fix: run ``npm ci`` in peers/.
    """
    check_node_peers()
    with run_soketi() as server:
        yield server


@pytest.fixture
def subscriber(soketi: SoketiServer) -> Iterator[Callable[..., Subscriber]]:
    """Factory that starts a pusher-js subscriber and closes it after the test.

    ``subscriber(channels, server=None, **options)`` connects to ``server``, by
    default the session soketi, and takes the same ``options`` as
    ``subscriber_config``. It returns the Subscriber right after start, without
    waiting for the connection.
    """
    started: list[Subscriber] = []

    def start(
        channels: list[str] | tuple[str, ...] = (),
        server: SoketiServer | None = None,
        **options: Any,
    ) -> Subscriber:
        config = subscriber_config(server or soketi, channels, **options)
        client = Subscriber(config)
        started.append(client)
        client.start()
        return client

    yield start
    for client in started:
        client.close()


@pytest.fixture
def http_server() -> Iterator[Callable[..., LoopbackHTTPServer]]:
    """Factory that starts a recording loopback HTTP server and closes it after the test.

    ``http_server(handler)`` takes the handler that LoopbackHTTPServer takes,
    by default one that replies 200 with ``{}``.
    """
    started: list[LoopbackHTTPServer] = []

    def start(handler: Handler | None = None) -> LoopbackHTTPServer:
        server = LoopbackHTTPServer() if handler is None else LoopbackHTTPServer(handler)
        started.append(server)
        server.start()
        return server

    yield start
    for server in started:
        server.close()
