"""The DEBUG steps this repository's adapters log, pinned message for message."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest

from contract_tests.harness import request_for
from contract_tests.server import ContractServer
from pusher_transports.urllib3_transport import Urllib3Transport

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
