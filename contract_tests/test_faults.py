"""Contract: every network fault ends in our typed error, on time, without leaking a socket."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import pytest

from contract_tests.harness import (
    Subject,
    config_for,
    elapsed,
    request_for,
    wait_for_no_connections,
)
from contract_tests.server import (
    ContractServer,
    Handler,
    close_after_reply,
    drip_headers,
    drip_status_line,
    never_answer,
    refused_port,
    reply,
    reset_mid_response,
    truncated_body,
)
from pusher_core.errors import (
    ConnectionFailedError,
    RateLimitedError,
    RequestTimeoutError,
    ServerError,
)

StartServer = Callable[..., ContractServer]

TIMEOUT = 0.5
# Slack for thread scheduling and socket teardown on a loaded test machine.
MARGIN = 0.75


async def test_refused_connection_was_not_sent(subject: Subject, start_server: StartServer) -> None:
    server = start_server()
    request = request_for(server, port=refused_port(), timeout=TIMEOUT)

    seconds, error = await elapsed(lambda: subject.send(request))

    assert isinstance(error, ConnectionFailedError)
    assert error.maybe_sent is False
    assert isinstance(error.__cause__, BaseException)
    assert seconds < TIMEOUT + MARGIN


async def test_reset_mid_response(subject: Subject, start_server: StartServer) -> None:
    server = start_server(reset_mid_response())

    seconds, error = await elapsed(lambda: subject.send(request_for(server, timeout=TIMEOUT)))

    assert isinstance(error, ConnectionFailedError)
    assert error.maybe_sent is True
    assert isinstance(error.__cause__, BaseException)
    assert seconds < TIMEOUT + MARGIN


async def test_silent_server_times_out(subject: Subject, start_server: StartServer) -> None:
    server = start_server(never_answer())

    seconds, error = await elapsed(lambda: subject.send(request_for(server, timeout=TIMEOUT)))

    assert isinstance(error, RequestTimeoutError)
    assert error.maybe_sent is True
    assert TIMEOUT * 0.9 <= seconds < TIMEOUT + MARGIN


@pytest.mark.parametrize("handler", [drip_status_line, drip_headers], ids=["status", "headers"])
async def test_drip_fed_response_times_out(
    subject: Subject, start_server: StartServer, handler: Callable[[float], Handler]
) -> None:
    # One byte every 50 ms would take minutes; each byte restarts a per-read timeout.
    server = start_server(handler(0.05))

    seconds, error = await elapsed(lambda: subject.send(request_for(server, timeout=TIMEOUT)))

    assert isinstance(error, RequestTimeoutError)
    assert TIMEOUT * 0.9 <= seconds < TIMEOUT + MARGIN


async def test_truncated_body_fails(subject: Subject, start_server: StartServer) -> None:
    server = start_server(truncated_body())

    seconds, error = await elapsed(lambda: subject.send(request_for(server, timeout=TIMEOUT)))

    assert isinstance(error, ConnectionFailedError)
    assert error.maybe_sent is True
    assert seconds < TIMEOUT + MARGIN


async def test_server_error_reaches_client(subject: Subject, start_server: StartServer) -> None:
    server = start_server(reply(503, [], b"overloaded"))

    with pytest.raises(ServerError) as failure:
        await subject.call(config_for(server), "trigger", "my-channel", "my-event", "data")

    assert failure.value.status == 503
    assert failure.value.body == "overloaded"


async def test_rate_limit_keeps_retry_after(subject: Subject, start_server: StartServer) -> None:
    server = start_server(reply(429, [("Retry-After", "7")], b"slow down"))

    with pytest.raises(RateLimitedError) as failure:
        await subject.call(config_for(server), "get_channel", "my-channel")

    assert failure.value.status == 429
    assert failure.value.retry_after == "7"


async def test_idle_connection_closed_by_server(
    subject: Subject, start_server: StartServer
) -> None:
    server = start_server(close_after_reply(delay=0.02))
    config = config_for(server)

    await subject.call(config, "get", "/channels")
    # Give the server's FIN time to arrive while the connection sits idle in a pool.
    await asyncio.sleep(0.2)
    await subject.call(config, "get", "/channels")

    assert len(server.requests) == 2
    assert server.connections_opened == 2


@pytest.mark.parametrize(
    "handler",
    [reset_mid_response, never_answer, drip_status_line, drip_headers, truncated_body],
    ids=["reset", "silent", "drip", "drip-headers", "truncated"],
)
async def test_fault_leaves_no_open_socket(
    subject: Subject, start_server: StartServer, handler: Callable[[], object]
) -> None:
    server = start_server(handler())
    request = request_for(server, timeout=TIMEOUT)

    _, error = await elapsed(lambda: subject.send(request))
    await subject.close_transport()

    assert error is not None
    assert await wait_for_no_connections(subject.own_connections(server))


async def test_timeout_leaves_transport_usable(subject: Subject, start_server: StartServer) -> None:
    silent = start_server(never_answer())
    healthy = start_server()

    _, error = await elapsed(lambda: subject.send(request_for(silent, timeout=TIMEOUT)))
    response = await subject.send(request_for(healthy))

    assert isinstance(error, RequestTimeoutError)
    assert response.status == 200
