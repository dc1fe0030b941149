"""Contract: closing a transport releases every socket, and closing twice is harmless.

The suite's teardown closes each transport once more, so every case also checks that a
second close is harmless.
"""

from __future__ import annotations

import asyncio
import gc
import warnings
from collections.abc import Callable

import pytest

from contract_tests.harness import Subject, request_for, wait_for_no_connections
from contract_tests.server import ContractServer, RecordedRequest, ServerConnection, reply

StartServer = Callable[..., ContractServer]


def slow_reply(request: RecordedRequest, connection: ServerConnection) -> None:
    connection.wait(0.02)
    reply()(request, connection)


async def fill_pool(subject: Subject, server: ContractServer) -> None:
    """Send enough concurrent requests that the transport opens several connections."""
    calls = [subject.send(request_for(server)) for _ in range(subject.options.max_connections)]
    await asyncio.gather(*calls)


async def test_close_releases_every_socket(subject: Subject, start_server: StartServer) -> None:
    server = start_server(slow_reply)
    await fill_pool(subject, server)

    await subject.close_transport()

    own = subject.own_connections(server)
    assert own.connections_opened >= 2
    assert await wait_for_no_connections(own)


async def test_close_twice_is_harmless(subject: Subject, start_server: StartServer) -> None:
    server = start_server()
    await subject.send(request_for(server))

    await subject.close_transport()
    await subject.close_transport()

    assert await wait_for_no_connections(subject.own_connections(server))


async def test_context_manager_releases_sockets(
    subject: Subject, start_server: StartServer
) -> None:
    server = start_server()
    transport = subject.new_transport()
    if subject.is_async and hasattr(transport, "__aenter__"):
        async with transport as entered:
            await entered.send(request_for(server))
    elif not subject.is_async and hasattr(transport, "__enter__"):
        with transport as entered:
            await asyncio.to_thread(entered.send, request_for(server))
    else:
        pytest.skip("the transport does not support a with block")

    assert await wait_for_no_connections(subject.own_connections(server))


async def test_no_resource_warning_after_close(subject: Subject, start_server: StartServer) -> None:
    server = start_server(slow_reply)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        await fill_pool(subject, server)
        await subject.close_transport()
        # Sockets closed by the event loop finish closing on its next iterations.
        await asyncio.sleep(0.05)
        gc.collect()

    assert [str(warning.message) for warning in caught] == []
