"""No secret leaks into a repr, an error, a DEBUG log line or the command line's output.

The tests install canary values: an app secret, an encryption master key and a proxy
password. They drive every public code path with them and search everything a user could
see or log for each canary, raw, in hex and in base64 (standard and URL-safe, at every
byte alignment). The channel key derived from the master key counts as a canary
too, except where it is the documented output: the ``shared_secret`` of an encrypted
channel's authorization, which pusher-js needs.

Signatures are HMAC outputs, not secrets, and appear in signed requests by design. The
full signed query string must still stay out of the SDK's logs and error messages.
Every server is a loopback server started here, or a loopback port with no listener.
"""

from __future__ import annotations

import base64
import io
import json
import logging
import socket
import sys
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from attrs import evolve

from pusher_core import (
    Config,
    ConnectionFailedError,
    PusherError,
    RequestBuilder,
    RequestError,
    RequestTimeoutError,
    Response,
    UnexpectedResponseError,
    Webhook,
    authorize_channel,
    sign_webhook,
)
from pusher_core.encryption import channel_key, encrypt
from pusher_core.retry import RetryPolicy
from pusher_transports import (
    AiohttpTransport,
    AsyncClient,
    AsyncProxyTransport,
    Client,
    KeepAlivePool,
    PoolPolicy,
    ProxyTransport,
    Urllib3Transport,
)
from pusher_transports.bulk import AsyncBulkPublisher, BulkPublisher
from pusher_transports.cli import main
from pusher_transports.proxy import ProxyRoutes, ProxyURL
from tests.support.peers import LoopbackHTTPServer, free_port, reply_json

CANARY_SECRET = "canary-SECRET-4f7d2a91e6c3"
CANARY_MASTER_KEY = b"canary-MASTER-KEY-0123456789abcd"
MASTER_KEY_BASE64 = base64.b64encode(CANARY_MASTER_KEY).decode()
CANARY_PROXY_PASSWORD = "canary-PROXY-PASSWORD-93b1e0"
ENCRYPTED_CHANNEL = "private-encrypted-hygiene"
DERIVED_KEY = channel_key(CANARY_MASTER_KEY, ENCRYPTED_CHANNEL)
SHORT_TIMEOUT = 0.5


def encoded_forms(value: bytes) -> set[str]:
    """Return the raw, hex and base64 spellings of a secret that a leak could take.

    Base64 of a longer text that contains the secret spells the secret differently at
    each of the three byte alignments, so the part unaffected by the neighbours is
    taken for each alignment.
    """
    forms = {value.decode("latin-1"), value.hex(), value.hex().upper()}
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        for offset in range(3):
            text = encode(bytes(offset) + value).decode()
            first_clean = -(-8 * offset // 6)
            forms.add(text[first_clean:-4])
    return forms


SECRET_FORMS = encoded_forms(CANARY_SECRET.encode()) | encoded_forms(CANARY_PROXY_PASSWORD.encode())
MASTER_FORMS = encoded_forms(CANARY_MASTER_KEY) | {MASTER_KEY_BASE64}
DERIVED_FORMS = encoded_forms(DERIVED_KEY)
ALL_FORMS = SECRET_FORMS | MASTER_FORMS | DERIVED_FORMS


def assert_clean(text: str, where: str, forms: set[str] = ALL_FORMS) -> None:
    """Fail naming the place when any spelling of a canary occurs in the text."""
    found = sorted(form for form in forms if form in text)
    assert not found, f"{where} leaks a canary: {found[0]!r} in {text!r}"


def error_texts(error: BaseException) -> str:
    """Return every text an error tracker would record: message, repr and traceback."""
    return "\n".join([str(error), repr(error), *traceback.format_exception(error)])


def canary_config(**options: Any) -> Config:
    fields: dict[str, Any] = {
        "app_id": "1",
        "key": "app-key",
        "secret": CANARY_SECRET,
        "encryption_master_key_base64": MASTER_KEY_BASE64,
    }
    return Config(**{**fields, **options})


def canary_url(port: int) -> str:
    return f"http://app-key:{CANARY_SECRET}@127.0.0.1:{port}/apps/1"


def route_reply(method: str, path: str, headers: Any, body: bytes) -> Any:
    """Reply by the last path segment, so that one server plays every kind of failure."""
    route = path.split("?", 1)[0]
    replies = {
        "unauthorized": lambda: reply_json(401, {"error": "bad signature"}),
        "server-error": lambda: reply_json(500, {"error": "internal"}),
        "in-band": lambda: reply_json(
            200, {"error": "The secret authentication failed", "code": 401}
        ),
        "not-json": lambda: (200, {"Content-Type": "text/html"}, b"<html>oops</html>"),
    }
    last = route.rsplit("/", 1)[-1]
    if last in replies:
        return replies[last]()
    if route.endswith("/users"):
        return reply_json(200, {"users": [{"id": "1"}]})
    if "/channels/" in route:
        return reply_json(200, {"occupied": True, "subscription_count": 1})
    if route.endswith("/channels"):
        return reply_json(200, {"channels": {"room": {}}})
    return reply_json(200, {})


@pytest.fixture
def server(http_server: Callable[..., LoopbackHTTPServer]) -> LoopbackHTTPServer:
    return http_server(route_reply)


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A loopback port that accepts connections but never responds, to cause timeouts."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        yield listener.getsockname()[1]


@pytest.fixture
def debug_log(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    caplog.set_level(logging.DEBUG, logger="pusher")
    return caplog


def check_log(caplog: pytest.LogCaptureFixture, signed: list[str]) -> None:
    """Check every captured line: no canary, and, on the SDK's loggers, no signed query."""
    assert caplog.records, "nothing was logged, so the check would prove nothing"
    for record in caplog.records:
        message = record.getMessage()
        assert_clean(message, f"log line of {record.name}")
        if record.name.startswith("pusher"):
            for query in signed:
                assert query not in message


# Reprs


def public_objects() -> list[Any]:
    config = canary_config()
    builder = RequestBuilder(config)
    client = Client(config, Urllib3Transport())
    proxy_url = f"http://user:{CANARY_PROXY_PASSWORD}@127.0.0.1:9"
    headers, body = sign_webhook(config, [{"name": "channel_occupied", "channel": "room"}], 1)
    webhook = Webhook(config, headers, body)
    return [
        config,
        Config.for_url(canary_url(80), encryption_master_key_base64=MASTER_KEY_BASE64),
        builder,
        builder.trigger(ENCRYPTED_CHANNEL, "event", {"a": 1}),
        builder.prepare_batch_event({"channel": ENCRYPTED_CHANNEL, "name": "e", "data": "x"}),
        Response(200, (("Content-Type", "application/json"),), b"{}"),
        client,
        client.transport,
        KeepAlivePool(),
        PoolPolicy(),
        KeepAlivePool().stats,
        ProxyTransport(proxy_url),
        AsyncProxyTransport(proxy_url),
        ProxyURL.parse(proxy_url),
        ProxyRoutes.single(proxy_url),
        RetryPolicy(),
        webhook,
        *webhook.events,
        BulkPublisher(client),
    ]


def test_reprs_hide_secrets() -> None:
    objects = public_objects()
    try:
        for item in objects:
            assert_clean(repr(item), f"repr of {type(item).__name__}")
            assert_clean(str(item), f"str of {type(item).__name__}")
    finally:
        for item in objects:
            if isinstance(item, (BulkPublisher, Client)):
                item.close()


async def test_async_reprs_hide_secrets() -> None:
    transport = AiohttpTransport()
    client = AsyncClient(canary_config(), transport)
    publisher = AsyncBulkPublisher(client)
    try:
        for item in (transport, client, publisher):
            assert_clean(repr(item), f"repr of {type(item).__name__}")
    finally:
        await publisher.close()
        await client.close()
        await transport.close()


# Errors raised before any I/O


def invalid_inputs() -> list[Callable[[], Any]]:
    config = canary_config()
    url = canary_url(80)
    short_key = base64.b64encode(CANARY_MASTER_KEY[:31]).decode()
    sealed = json.loads(encrypt(config, ENCRYPTED_CHANNEL, {"a": 1}))
    first = sealed["ciphertext"][0]
    sealed["ciphertext"] = ("B" if first == "A" else "A") + sealed["ciphertext"][1:]
    return [
        lambda: Config(app_id="1", key="k", secret=CANARY_SECRET + "\n"),
        lambda: Config(app_id="1", key="k", secret="s", encryption_master_key_base64=short_key),
        lambda: Config(
            app_id="1", key="k", secret="s", encryption_master_key_base64=MASTER_KEY_BASE64 + "\n"
        ),
        lambda: Config(
            app_id="1",
            key="k",
            secret="s",
            encryption_master_key_base64=MASTER_KEY_BASE64.replace("+", "-").replace("/", "_")
            + "-",
        ),
        lambda: Config.for_url(url.replace("/apps/1", "/1")),
        lambda: Config.for_url(url + "\n"),
        lambda: Config.for_url(url.replace("127.0.0.1:80", "127.0.0.1:99999")),
        lambda: Config.for_url(url, host="other"),
        lambda: Config.from_env(environ={"PUSHER_URL": url.replace("http", "ftp")}),
        lambda: ProxyURL.parse(f"https://user:{CANARY_PROXY_PASSWORD}@127.0.0.1:9"),
        lambda: ProxyURL.parse(f"http://user:{CANARY_PROXY_PASSWORD}@127.0.0.1:bad"),
        lambda: authorize_channel(config, "1.1\n", "private-room"),
        lambda: authorize_channel(config, "1.1", "presence-room", {"user_info": {}}),
        lambda: RequestBuilder(config).trigger(ENCRYPTED_CHANNEL, "e", {"x": {1}}),
        lambda: RequestBuilder(config).get("/channels", {"auth_signature": "x"}),
        lambda: Client(config, Urllib3Transport()).decrypt(ENCRYPTED_CHANNEL, json.dumps(sealed)),
        lambda: Client(config, Urllib3Transport()).decrypt(ENCRYPTED_CHANNEL, "not json"),
        lambda: Webhook(config, {"X-Pusher-Key": "app-key"}, b"{}").events,
    ]


@pytest.mark.parametrize("make_error", invalid_inputs())
def test_input_errors_hide_secrets(make_error: Callable[[], Any]) -> None:
    with pytest.raises(PusherError) as raised:
        make_error()

    assert_clean(error_texts(raised.value), type(raised.value).__name__)


# Errors and logs of real exchanges


def send_and_fail(client: Client, path: str) -> PusherError:
    with pytest.raises(PusherError) as raised:
        client.get(path)
    return raised.value


FAILURES: list[tuple[str, type[PusherError]]] = [
    ("/unauthorized", RequestError),
    ("/server-error", RequestError),
    ("/in-band", RequestError),
    ("/not-json", UnexpectedResponseError),
]

SYNC_TRANSPORTS: dict[str, Callable[[], Any]] = {
    "urllib3": Urllib3Transport,
    "pool": KeepAlivePool,
}


@pytest.mark.parametrize("name", sorted(SYNC_TRANSPORTS))
def test_sync_exchanges_hide_secrets(
    name: str, server: LoopbackHTTPServer, silent_port: int, debug_log: pytest.LogCaptureFixture
) -> None:
    config = Config.for_url(
        canary_url(server.port),
        timeout=SHORT_TIMEOUT,
        encryption_master_key_base64=MASTER_KEY_BASE64,
    )
    retry = RetryPolicy(max_attempts=2, backoff=0.01)
    errors: list[PusherError] = []
    with SYNC_TRANSPORTS[name]() as transport:
        client = Client(config, transport, retry=retry)
        client.trigger(ENCRYPTED_CHANNEL, "event", {"a": 1})
        client.trigger_batch([{"channel": ENCRYPTED_CHANNEL, "name": "e", "data": "x"}])
        client.send_to_user("user-1", "event", "x")
        client.list_channels(info=["user_count"])
        client.get_channel("presence-room")
        client.get_users("presence-room")
        client.terminate_user_connections("user-1")
        for path, expected in FAILURES:
            errors.append(send_and_fail(client, path))
            assert isinstance(errors[-1], expected)
        silent = Client(evolve(config, port=silent_port), transport)
        errors.append(send_and_fail(silent, "/channels"))
        assert isinstance(errors[-1], RequestTimeoutError)
        refused = Client(evolve(config, port=free_port()), transport, retry=retry)
        errors.append(send_and_fail(refused, "/channels"))
        assert isinstance(errors[-1], ConnectionFailedError)

    signed = [request.path.split("?", 1)[1] for request in server.requests]
    for error in errors:
        assert_clean(error_texts(error), type(error).__name__)
        for query in signed:
            assert query not in str(error)
    check_log(debug_log, signed)


async def test_async_exchanges_hide_secrets(
    server: LoopbackHTTPServer, silent_port: int, debug_log: pytest.LogCaptureFixture
) -> None:
    config = Config.for_url(
        canary_url(server.port),
        timeout=SHORT_TIMEOUT,
        encryption_master_key_base64=MASTER_KEY_BASE64,
    )
    retry = RetryPolicy(max_attempts=2, backoff=0.01)
    errors: list[PusherError] = []
    async with AsyncClient(config, retry=retry) as client:
        await client.trigger(ENCRYPTED_CHANNEL, "event", {"a": 1})
        await client.get_users("presence-room")
        for path, expected in FAILURES:
            with pytest.raises(expected) as raised:
                await client.get(path)
            errors.append(raised.value)
    async with AsyncClient(evolve(config, port=silent_port)) as silent:
        with pytest.raises(RequestTimeoutError) as raised:
            await silent.get("/channels")
        errors.append(raised.value)
    async with AsyncClient(evolve(config, port=free_port()), retry=retry) as refused:
        with pytest.raises(ConnectionFailedError) as raised:
            await refused.get("/channels")
        errors.append(raised.value)

    signed = [request.path.split("?", 1)[1] for request in server.requests]
    for error in errors:
        assert_clean(error_texts(error), type(error).__name__)
        for query in signed:
            assert query not in str(error)
    check_log(debug_log, signed)


def test_proxy_failures_hide_secrets(debug_log: pytest.LogCaptureFixture) -> None:
    # The proxy port has no listener, so the request fails at the first step.
    proxy_url = f"http://user:{CANARY_PROXY_PASSWORD}@127.0.0.1:{free_port()}"
    config = Config.for_url(canary_url(free_port()), timeout=SHORT_TIMEOUT)
    with ProxyTransport(proxy_url) as transport:
        error = send_and_fail(Client(config, transport), "/channels")

    assert isinstance(error, ConnectionFailedError)
    assert_clean(error_texts(error), type(error).__name__)
    for record in debug_log.records:
        assert_clean(record.getMessage(), f"log line of {record.name}")


async def test_async_proxy_failures_hide_secrets(debug_log: pytest.LogCaptureFixture) -> None:
    proxy_url = f"http://user:{CANARY_PROXY_PASSWORD}@127.0.0.1:{free_port()}"
    config = Config.for_url(canary_url(free_port()), timeout=SHORT_TIMEOUT)
    async with AsyncProxyTransport(proxy_url) as transport:
        with pytest.raises(ConnectionFailedError) as raised:
            await AsyncClient(config, transport).get("/channels")

    assert_clean(error_texts(raised.value), type(raised.value).__name__)
    for record in debug_log.records:
        assert_clean(record.getMessage(), f"log line of {record.name}")


# The command line


def cli_commands(tmp_path: Path) -> list[tuple[list[str], str]]:
    """Return (argv, stdin) pairs covering every command, each success and failure kind."""
    config = canary_config()
    headers, body = sign_webhook(config, [{"name": "channel_occupied", "channel": "room"}], 1)
    headers_file = tmp_path / "headers.json"
    headers_file.write_text(json.dumps(headers))
    body_file = tmp_path / "body.json"
    body_file.write_bytes(body)
    sealed = encrypt(config, ENCRYPTED_CHANNEL, {"a": 1})
    batch_line = json.dumps({"channel": ENCRYPTED_CHANNEL, "name": "e", "data": "x"}) + "\n"
    return [
        (["trigger", "-c", "room", "-e", "event", '{"a":1}'], ""),
        (["trigger", "-c", ENCRYPTED_CHANNEL, "-e", "event", '{"a":1}'], ""),
        (["batch"], batch_line),
        (["channels", "--info", "user_count"], ""),
        (["channel", "presence-room"], ""),
        (["users", "presence-room"], ""),
        (["terminate", "user-1"], ""),
        (["sign", "POST", "/events", "--body", "{}", "--url-output"], ""),
        (["auth", "channel", "1.1", "private-room"], ""),
        (["auth", "channel", "1.1", "presence-room", "--channel-data", '{"user_id":"1"}'], ""),
        (["auth", "user", "1.1", "--user-data", '{"id":"1"}'], ""),
        (["webhook", "sign", "--events", '{"name":"channel_occupied","channel":"room"}'], ""),
        (["webhook", "verify", "--headers", str(headers_file), "--body", str(body_file)], ""),
        (["webhook", "verify", "--headers", str(headers_file), "--body", "-"], "tampered"),
        (["decrypt", "--channel", ENCRYPTED_CHANNEL, sealed], ""),
        (["decrypt", "--channel", ENCRYPTED_CHANNEL, sealed.replace('"n', '"x')], ""),
        (["channel", "unauthorized"], ""),
        (["channel", "server-error"], ""),
        (["channel", "in-band"], ""),
        (["--port", str(free_port()), "channels"], ""),
        (["--host", "bad host", "channels"], ""),
        (["--url", canary_url(1).replace("/apps/1", "/x"), "channels"], ""),
    ]


@pytest.mark.parametrize("output", [[], ["--json"], ["-v"]], ids=["text", "json", "verbose"])
def test_cli_output_hides_secrets(
    output: list[str],
    server: LoopbackHTTPServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("PUSHER_URL", canary_url(server.port))
    monkeypatch.setenv("PUSHER_ENCRYPTION_MASTER_KEY", MASTER_KEY_BASE64)
    statuses = []
    for argv, stdin in cli_commands(tmp_path):
        stream = io.TextIOWrapper(io.BytesIO(stdin.encode()), encoding="utf-8")
        monkeypatch.setattr(sys, "stdin", stream)
        statuses.append(main([*output, *argv]))
        captured = capsys.readouterr()
        assert_clean(captured.out + captured.err, f"pusher-channels {' '.join(argv)}")

    # Successes and every failure status, so each kind of output was checked.
    assert {0, 1, 2, 3} <= set(statuses)


def test_cli_encrypted_auth_prints_only_the_channel_key(
    server: LoopbackHTTPServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("PUSHER_URL", canary_url(server.port))
    monkeypatch.setenv("PUSHER_ENCRYPTION_MASTER_KEY", MASTER_KEY_BASE64)

    status = main(["--json", "auth", "channel", "1.1", ENCRYPTED_CHANNEL])

    output = capsys.readouterr().out
    assert status == 0
    # The channel key is the documented output; the master key and the secret are not.
    assert json.loads(output)["shared_secret"] == base64.b64encode(DERIVED_KEY).decode()
    assert_clean(output, "auth channel output", SECRET_FORMS | MASTER_FORMS)


def test_canary_search_finds_each_form() -> None:
    # A search that cannot match would pass every test above, so prove it matches.
    secret = CANARY_SECRET.encode()
    leaks = [
        f"x{CANARY_SECRET}y",
        secret.hex(),
        base64.b64encode(b"ab" + secret + b"cd").decode(),
        base64.urlsafe_b64encode(b"a" + CANARY_MASTER_KEY).decode(),
        base64.b64encode(DERIVED_KEY).decode(),
        f"Basic {base64.b64encode(f'user:{CANARY_PROXY_PASSWORD}'.encode()).decode()}",
    ]
    for leak in leaks:
        with pytest.raises(AssertionError):
            assert_clean(leak, "a planted leak")
