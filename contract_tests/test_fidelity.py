"""Contract: a request arrives exactly as built, and a response comes back exactly as sent."""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable, Sequence

import pytest
from attrs import evolve

from contract_tests.harness import APP_SECRET, Subject, config_for, request_for
from contract_tests.server import (
    ContractServer,
    Handler,
    RecordedRequest,
    garbage_response,
    refused_port,
    reply,
    reset_mid_response,
    truncated_body,
)
from pusher_core.errors import TransportError
from pusher_core.messages import Request

# Headers a transport must add for HTTP/1.1 framing; it may add no others.
FRAMING_HEADERS = frozenset({"host", "content-length", "connection"})

# An HTTP proxy must add a Via field to every message it forwards (RFC 9110, section
# 7.6.3). It may also reorder fields with different names, and combine the lines of a
# repeated field into one comma-separated line (section 5.3). tinyproxy 1.11 goes
# further and forwards only one line of a repeated field, in both directions. So for
# transports tagged "proxy" the header checks allow Via, ignore the order of names, and
# accept any of a repeated field's values. Every other check is the same.
PROXY_HEADERS = frozenset({"via"})

RESPONSE_HEADERS = [("X-One", "1"), ("X-Dup", "a"), ("X-Dup", "b"), ("Content-Type", "text/plain")]

StartServer = Callable[..., ContractServer]


def request_headers(recorded: RecordedRequest, subject: Subject) -> list[tuple[str, str]]:
    """Return the headers that arrived, without those the transport or a proxy may add."""
    added = FRAMING_HEADERS | (PROXY_HEADERS if "proxy" in subject.tags else frozenset())
    return [(name, value) for name, value in recorded.headers if name.lower() not in added]


def values_by_name(headers: Sequence[tuple[str, str]]) -> dict[str, list[str]]:
    """Group header values by lower-case name, splitting combined lines on commas."""
    grouped: dict[str, list[str]] = {}
    for name, line in headers:
        grouped.setdefault(name.lower(), []).extend(value.strip() for value in line.split(","))
    return grouped


def assert_forwarded(arrived: Sequence[tuple[str, str]], sent: Sequence[tuple[str, str]]) -> None:
    """Check headers that passed a proxy against the proxy rules above."""
    arrived_values, sent_values = values_by_name(arrived), values_by_name(sent)
    assert arrived_values.keys() == sent_values.keys()
    for name, values in sent_values.items():
        if len(values) == 1:
            assert arrived_values[name] == values, name
        else:
            assert arrived_values[name], name
            assert set(arrived_values[name]) <= set(values), name


def unicode_post(server: ContractServer) -> Request:
    """Return a POST with a unicode body, an escaped path and query, and mixed headers."""
    body = '{"name":"caf\u00e9 \u2713","data":"\u65e5\u672c & = ?"}'.encode()
    return request_for(
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


@pytest.mark.without_transport_tags("proxy")
async def test_post_arrives_byte_for_byte(subject: Subject, start_server: StartServer) -> None:
    server = start_server()
    request = unicode_post(server)

    await subject.send(request)

    recorded = server.requests[0]
    assert recorded.request_line == f"POST {request.target} HTTP/1.1"
    assert request_headers(recorded, subject) == list(request.headers)
    assert recorded.header("Host") == f"127.0.0.1:{server.port}"
    assert recorded.header("Content-Length") == str(len(request.body))
    assert recorded.body == request.body


@pytest.mark.transport_tags("proxy")
async def test_post_arrives_through_proxy(subject: Subject, start_server: StartServer) -> None:
    server = start_server()
    request = unicode_post(server)

    await subject.send(request)

    recorded = server.requests[0]
    assert recorded.request_line == f"POST {request.target} HTTP/1.1"
    assert recorded.header("Via") is not None
    assert_forwarded(request_headers(recorded, subject), request.headers)
    assert recorded.header("Host") == f"127.0.0.1:{server.port}"
    assert recorded.header("Content-Length") == str(len(request.body))
    assert recorded.body == request.body


async def test_get_sends_no_body(subject: Subject, start_server: StartServer) -> None:
    server = start_server()
    request = request_for(server, query=(("info", "user_count"),), headers=(("X-A", "1"),))

    await subject.send(request)

    recorded = server.requests[0]
    assert recorded.request_line == "GET /apps/4242/channels?info=user_count HTTP/1.1"
    assert request_headers(recorded, subject) == [("X-A", "1")]
    assert recorded.header("Content-Length") in (None, "0")
    assert recorded.body == b""


@pytest.mark.without_transport_tags("proxy")
async def test_response_comes_back_intact(subject: Subject, start_server: StartServer) -> None:
    server = start_server(reply(203, RESPONSE_HEADERS, "r\u00e9ponse \u2713".encode()))

    response = await subject.send(request_for(server))

    assert response.status == 203
    received = [(name, value) for name, value in response.headers if name.startswith("X-")]
    assert received == [("X-One", "1"), ("X-Dup", "a"), ("X-Dup", "b")]
    assert response.header("content-type") == "text/plain"
    assert response.body == "r\u00e9ponse \u2713".encode()


@pytest.mark.transport_tags("proxy")
async def test_response_passes_proxy_intact(subject: Subject, start_server: StartServer) -> None:
    server = start_server(reply(203, RESPONSE_HEADERS, "r\u00e9ponse \u2713".encode()))

    response = await subject.send(request_for(server))

    assert response.status == 203
    received = [(name, value) for name, value in response.headers if name.startswith("X-")]
    assert_forwarded(received, RESPONSE_HEADERS[:3])
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


@pytest.mark.parametrize(
    "handler",
    [garbage_response, reset_mid_response, truncated_body],
    ids=["garbage", "reset", "truncated"],
)
async def test_signed_target_absent_from_error_chain(
    subject: Subject, start_server: StartServer, handler: Callable[[], Handler]
) -> None:
    # A signed URL can be replayed until its timestamp expires, so the error and every
    # exception chained to it, as a traceback or an error tracker shows them, leave it out.
    server = start_server(handler())

    with pytest.raises(TransportError) as failure:
        await subject.call(config_for(server), "trigger", "my-channel", "my-event", {"a": 1})

    traceback_text = "".join(traceback.format_exception(failure.value))
    assert "auth_signature" not in traceback_text
    assert "auth_key" not in traceback_text
