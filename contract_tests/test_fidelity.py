"""Contract: a request arrives exactly as built, and a response comes back exactly as sent."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable

import pytest
from attrs import evolve

from contract_tests.harness import APP_SECRET, Subject, config_for, request_for
from contract_tests.server import ContractServer, RecordedRequest, refused_port, reply
from pusher_core.errors import TransportError

# Headers a transport must add for HTTP/1.1 framing; it may add no others.
FRAMING_HEADERS = frozenset({"host", "content-length", "connection"})

StartServer = Callable[..., ContractServer]


def added_headers(recorded: RecordedRequest) -> list[tuple[str, str]]:
    return [(name, value) for name, value in recorded.headers if name.lower() in FRAMING_HEADERS]


def request_headers(recorded: RecordedRequest) -> list[tuple[str, str]]:
    return [
        (name, value) for name, value in recorded.headers if name.lower() not in FRAMING_HEADERS
    ]


async def test_post_arrives_byte_for_byte(subject: Subject, start_server: StartServer) -> None:
    server = start_server()
    body = '{"name":"caf\u00e9 \u2713","data":"\u65e5\u672c & = ?"}'.encode()
    request = request_for(
        server,
        method="POST",
        path="/apps/4242/users/a%2Fb%20c/terminate_connections",
        query=(("auth_key", "key"), ("filter", "a b&c=d/\u20ac~"), ("empty", "")),
        headers=(
            ("X-Pusher-Library", "pusher-channels-python test"),
            ("Content-Type", "application/json"),
            ("X-Trace", "one"),
            ("X-Trace", "two"),
            ("x-MiXeD-Case", "Value With  Spaces"),
        ),
        body=body,
    )

    await subject.send(request)

    recorded = server.requests[0]
    assert recorded.request_line == f"POST {request.target} HTTP/1.1"
    assert request_headers(recorded) == list(request.headers)
    assert recorded.header("Host") == f"127.0.0.1:{server.port}"
    assert recorded.header("Content-Length") == str(len(body))
    assert recorded.body == body


async def test_get_sends_no_body(subject: Subject, start_server: StartServer) -> None:
    server = start_server()
    request = request_for(server, query=(("info", "user_count"),), headers=(("X-A", "1"),))

    await subject.send(request)

    recorded = server.requests[0]
    assert recorded.request_line == "GET /apps/4242/channels?info=user_count HTTP/1.1"
    assert request_headers(recorded) == [("X-A", "1")]
    assert recorded.header("Content-Length") in (None, "0")
    assert recorded.body == b""


async def test_response_comes_back_intact(subject: Subject, start_server: StartServer) -> None:
    headers = [("X-One", "1"), ("X-Dup", "a"), ("X-Dup", "b"), ("Content-Type", "text/plain")]
    server = start_server(reply(203, headers, "r\u00e9ponse \u2713".encode()))

    response = await subject.send(request_for(server))

    assert response.status == 203
    received = [(name, value) for name, value in response.headers if name.startswith("X-")]
    assert received == [("X-One", "1"), ("X-Dup", "a"), ("X-Dup", "b")]
    assert response.header("content-type") == "text/plain"
    assert response.body == "r\u00e9ponse \u2713".encode()


async def test_megabyte_bodies_both_ways(subject: Subject, start_server: StartServer) -> None:
    payload = bytes(range(256)) * 4096
    server = start_server(reply(200, [], payload[::-1]))

    response = await subject.send(request_for(server, method="POST", body=payload))

    assert server.requests[0].body == payload
    assert response.body == payload[::-1]


async def test_secret_absent_from_logs_and_errors(
    subject: Subject, start_server: StartServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server = start_server()
    config = config_for(server)
    refused = evolve(config, port=refused_port())

    await subject.call(config, "trigger", "my-channel", "my-event", {"a": 1})
    with pytest.raises(TransportError) as failure:
        await subject.call(refused, "trigger", "my-channel", "my-event", {"a": 1})

    assert "auth_signature=" in server.requests[0].target
    for record in caplog.records:
        assert APP_SECRET not in record.getMessage()
        if record.name.startswith("pusher."):
            assert "auth_signature" not in record.getMessage()
    assert APP_SECRET not in str(failure.value)
    assert "auth_signature" not in str(failure.value)
    assert APP_SECRET not in "".join(traceback.format_exception(failure.value))
