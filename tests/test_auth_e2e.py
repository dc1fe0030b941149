"""End-to-end tests of auth, encryption and webhooks against soketi and pusher-js.

The Flask example serves the auth endpoints for real on loopback, so soketi checks the
signatures this SDK makes, and pusher-js decrypts what it seals.
"""

from __future__ import annotations

import threading
from base64 import b64encode
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from examples.auth_flask import create_app
from pusher_core import ClientEvent, Config, MemberAdded, Webhook
from pusher_transports import Client
from tests.e2e_clients import CLIENT_FACTORIES
from tests.support.peers import (
    LoopbackHTTPServer,
    RecordedRequest,
    SoketiServer,
    Subscriber,
    subscriber_config,
)

pytestmark = pytest.mark.e2e

# Several bytes above 0x7f, so that treating the key as text would break decryption.
MASTER_KEY_BASE64 = b64encode(bytes(range(0x70, 0x90))).decode("ascii")
USER = {"id": "user-1", "user_info": {"name": "Zoë 🎉"}}


def sdk_config(server: SoketiServer, **options: Any) -> Config:
    return Config.for_url(server.url, encryption_master_key_base64=MASTER_KEY_BASE64, **options)


@contextmanager
def serve_flask(app: Flask) -> Iterator[str]:
    """Serve a Flask app on a free loopback port and yield its root URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="flask-auth", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


@pytest.fixture
def auth_url(soketi: SoketiServer) -> Iterator[str]:
    app = create_app(sdk_config(soketi), lambda request: USER)
    with serve_flask(app) as url:
        yield url


@pytest.fixture
def client(soketi: SoketiServer) -> Iterator[Client]:
    with Client(sdk_config(soketi)) as sdk_client:
        yield sdk_client


@pytest.fixture(params=sorted(CLIENT_FACTORIES))
def any_client(request: pytest.FixtureRequest, soketi: SoketiServer) -> Iterator[Any]:
    """A client on each transport in turn, with the blocking interface of `Client`."""
    with CLIENT_FACTORIES[request.param](sdk_config(soketi)) as sdk_client:
        yield sdk_client


def test_private_presence_and_encrypted_channels(
    auth_url: str,
    any_client: Any,
    subscriber: Callable[..., Subscriber],
    request: pytest.FixtureRequest,
) -> None:
    # One set of channel names per transport, so that no run receives another's events.
    suffix = request.node.callspec.id
    channels = [f"{kind}-e2e-{suffix}" for kind in ("private", "presence", "private-encrypted")]
    listener = subscriber(channels, channel_auth_endpoint=f"{auth_url}/pusher/auth")
    listener.wait_subscribed(channels)

    members = listener.wait_for("members")
    assert members["me"] == {"id": "user-1", "info": {"name": "Zoë 🎉"}}

    data = {"text": "héllo 🎉", "n": [1, 2.5, None]}
    for channel in channels:
        any_client.trigger(channel, "e2e-event", data)
    received = {record["channel"]: record for record in listener.events(3)}

    for channel in channels:
        assert received[channel]["event"] == "e2e-event"
        assert received[channel]["data"] == data


def test_encrypted_string_and_repeated_batch(
    auth_url: str, client: Client, subscriber: Callable[..., Subscriber]
) -> None:
    channel = "private-encrypted-e2e-batch"
    listener = subscriber([channel], channel_auth_endpoint=f"{auth_url}/pusher/auth")
    listener.wait_subscribed([channel])
    batch: list[dict[str, Any]] = [
        {"channel": channel, "name": "text", "data": "hi"},
        {"channel": channel, "name": "object", "data": {"a": "ü"}},
    ]

    client.trigger_batch(batch)
    client.trigger_batch(batch)

    events = [(record["event"], record["data"]) for record in listener.events(4)]
    assert events == [("text", "hi"), ("object", {"a": "ü"})] * 2
    assert batch[0] == {"channel": channel, "name": "text", "data": "hi"}


def test_soketi_rejects_wrong_secret(
    soketi: SoketiServer, subscriber: Callable[..., Subscriber]
) -> None:
    wrong = Config.for_url(soketi.url.replace(soketi.secret, "wrong-secret"))
    with serve_flask(create_app(wrong, lambda request: USER)) as url:
        listener = subscriber(["private-e2e-wrong"], channel_auth_endpoint=f"{url}/pusher/auth")

        record = listener.wait_for("subscription_error")

    assert record["channel"] == "private-e2e-wrong"


def test_signin_send_to_user_and_terminate(
    auth_url: str, client: Client, subscriber: Callable[..., Subscriber]
) -> None:
    listener = subscriber([], user_auth_endpoint=f"{auth_url}/pusher/user-auth", signin=True)
    signed_in = listener.wait_for("signed_in")
    assert signed_in["user_data"] == '{"id":"user-1","user_info":{"name":"Zoë 🎉"}}'

    client.send_to_user("user-1", "direct", {"n": 7})
    assert listener.wait_for("user_event") == {
        "type": "user_event",
        "event": "direct",
        "data": {"n": 7},
    }

    client.terminate_user_connections("user-1")
    error = listener.wait_for("error")
    assert error["error"]["data"]["code"] == 4009


def is_webhook_with(name: str) -> Callable[[RecordedRequest], bool]:
    return lambda request: f'"name":"{name}"'.encode() in request.body


def test_soketi_webhooks_validate(
    http_server: Callable[..., LoopbackHTTPServer],
) -> None:
    receiver = http_server()
    server = SoketiServer(webhook_url=receiver.url_for("/hook"))
    client_event = {"channel": "presence-e2e-hook", "event": "client-ping", "data": {"n": 1}}

    with server:
        config = sdk_config(server)
        with serve_flask(create_app(config, lambda request: USER)) as url:
            options = subscriber_config(
                server,
                ["presence-e2e-hook"],
                channel_auth_endpoint=f"{url}/pusher/auth",
                client_events=[client_event],
            )
            with Subscriber(options) as listener:
                listener.wait_for("client_event_sent")
                hooks = {
                    name: receiver.wait_for_requests(1, match=is_webhook_with(name))[0]
                    for name in ("channel_occupied", "member_added", "client_event")
                }

    for name, hook in hooks.items():
        webhook = Webhook(config, hook.headers, hook.body, max_age=60)
        assert webhook.is_valid(), (name, webhook.reason)
        assert name in [event.name for event in webhook.events]

        tampered = bytearray(hook.body)
        tampered[len(tampered) // 2] ^= 0x01
        assert Webhook(config, hook.headers, bytes(tampered)).reason == "bad_signature"

    events = Webhook(config, hooks["member_added"].headers, hooks["member_added"].body).events
    assert (
        MemberAdded(name="member_added", channel="presence-e2e-hook", user_id="user-1", raw={})
        in events
    )
    [ping] = [
        event
        for event in Webhook(
            config, hooks["client_event"].headers, hooks["client_event"].body
        ).events
        if isinstance(event, ClientEvent)
    ]
    assert ping.event == "client-ping"
    assert ping.user_id == "user-1"
