"""The DEBUG steps this repository's adapters log, pinned message for message.

Each case sends a request whose query carries a signature, so a record that copied the
full target would differ from the pinned one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import pytest

from contract_tests.harness import APP_SECRET, config_for, request_for
from contract_tests.server import ContractServer, reply
from pusher_core.errors import ServerError
from pusher_core.retry import RetryPolicy
from pusher_transports.client import Client
from pusher_transports.urllib3_transport import Urllib3Transport
from tests.support.tinyproxy import run_tinyproxy

StartServer = Callable[..., ContractServer]

pytestmark = pytest.mark.registered_only


def pusher_messages(caplog: pytest.LogCaptureFixture, logger: str) -> list[str]:
    return [record.getMessage() for record in caplog.records if record.name == logger]


def expected_steps(server: ContractServer) -> list[str]:
    origin = f"127.0.0.1:{server.port}"
    return [
        "sending request: GET /apps/4242/channels",
        f"connection opened: {origin}",
        "response status: 200 for GET /apps/4242/channels",
        "sending request: GET /apps/4242/channels",
        f"connection reused: {origin}",
        "response status: 200 for GET /apps/4242/channels",
    ]


def test_urllib3_logs_each_step(
    start_server: StartServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="pusher")
    server = start_server()
    request = request_for(server, query=(("auth_signature", "abc123"),))

    with Urllib3Transport() as transport:
        transport.send(request)
        transport.send(request)

    assert pusher_messages(caplog, "pusher.transport.urllib3") == expected_steps(server)


async def test_aiohttp_logs_each_step(
    start_server: StartServer, caplog: pytest.LogCaptureFixture
) -> None:
    from pusher_transports.aiohttp_transport import AiohttpTransport

    caplog.set_level(logging.DEBUG, logger="pusher")
    server = start_server()
    request = request_for(server, query=(("auth_signature", "abc123"),))

    async with AiohttpTransport() as transport:
        await transport.send(request)
        await transport.send(request)

    assert pusher_messages(caplog, "pusher.transport.aiohttp") == expected_steps(server)


def test_keep_alive_pool_logs_each_step(
    start_server: StartServer, caplog: pytest.LogCaptureFixture
) -> None:
    from pusher_transports.pool import KeepAlivePool

    caplog.set_level(logging.DEBUG, logger="pusher")
    server = start_server()
    request = request_for(server, query=(("auth_signature", "abc123"),))

    with KeepAlivePool() as transport:
        transport.send(request)
        transport.send(request)

    origin = f"http://127.0.0.1:{server.port}"
    messages = pusher_messages(caplog, "pusher.transport.pool")
    # The idle time before a reuse varies, so that record is matched by its prefix.
    assert messages[3].startswith(f"connection reused: {origin}, idle ")
    assert messages[:3] + messages[4:] == [
        f"connection opened: {origin}",
        f"request sent: GET /apps/4242/channels to {origin}",
        "response status: 200 for GET /apps/4242/channels",
        f"request sent: GET /apps/4242/channels to {origin}",
        "response status: 200 for GET /apps/4242/channels",
    ]


def proxy_steps(relay_port: int) -> list[str]:
    proxy = f"127.0.0.1:{relay_port}"
    via = f"sending request via http://{proxy}: GET /apps/4242/channels"
    return [
        via,
        f"connection opened: {proxy}",
        "response status: 200 for GET /apps/4242/channels",
        via,
        # tinyproxy closes the connection after each response, so none is reused.
        f"connection opened: {proxy}",
        "response status: 200 for GET /apps/4242/channels",
    ]


def test_proxy_logs_each_step(start_server: StartServer, caplog: pytest.LogCaptureFixture) -> None:
    from pusher_transports.proxy import ProxyTransport

    caplog.set_level(logging.DEBUG, logger="pusher")
    server = start_server()
    request = request_for(server, query=(("auth_signature", "abc123"),))

    with run_tinyproxy() as proxy, ProxyTransport(proxy.url()) as transport:
        transport.send(request)
        transport.send(request)

    assert pusher_messages(caplog, "pusher.transport.proxy") == proxy_steps(proxy.port)


async def test_async_proxy_logs_each_step(
    start_server: StartServer, caplog: pytest.LogCaptureFixture
) -> None:
    from pusher_transports.proxy import AsyncProxyTransport

    caplog.set_level(logging.DEBUG, logger="pusher")
    server = start_server()
    request = request_for(server, query=(("auth_signature", "abc123"),))

    with run_tinyproxy() as proxy:
        async with AsyncProxyTransport(proxy.url()) as transport:
            await transport.send(request)
            # Let the event loop see tinyproxy close the connection.
            await asyncio.sleep(0.1)
            await transport.send(request)

    assert pusher_messages(caplog, "pusher.transport.proxy") == proxy_steps(proxy.port)


def test_retry_decision_logged_without_query(
    start_server: StartServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="pusher")
    server = start_server(reply(503, [], b"busy"))
    policy = RetryPolicy(max_attempts=2, backoff=0.01, max_backoff=0.01)

    with (
        Urllib3Transport() as transport,
        Client(config_for(server), transport, retry=policy) as client,
        pytest.raises(ServerError),
    ):
        client.get_channel("my-channel")

    decisions = [
        record.getMessage()
        for record in caplog.records
        if record.getMessage().startswith("retry decision: ")
    ]
    assert len(decisions) == 2
    assert decisions[0].startswith("retry decision: GET /apps/4242/channels/my-channel attempt 1")
    assert decisions[1].endswith("giving up")
    for record in caplog.records:
        assert APP_SECRET not in record.getMessage()
        assert "auth_signature" not in record.getMessage()
