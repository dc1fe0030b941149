"""The pusher-channels command line, run in-process through `main`.

Commands that make requests talk to a `LoopbackHTTPServer` on 127.0.0.1, or to a
closed loopback port for network failures; nothing else is contacted.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pusher_core import Config, RequestBuilder, encryption
from pusher_core.auth import authenticate_user, authorize_channel
from pusher_core.webhooks import sign_webhook
from pusher_transports.cli import ExitStatus, main
from tests.support.peers import LoopbackHTTPServer, free_port, reply_json

CANARY_SECRET = "canary-S3CRET-7f1d"
MASTER_KEY = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="  # base64 of 32 ASCII bytes
OTHER_MASTER_KEY = "ZmVkY2JhOTg3NjU0MzIxMGZlZGNiYTk4NzY1NDMyMTA="
TIMESTAMP = 1_700_000_000
LOCAL_URL = "http://app-key:app-secret@127.0.0.1:6001/apps/app-id"


@dataclass
class Result:
    status: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


Run = Callable[..., Result]


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PUSHER_URL", raising=False)
    monkeypatch.delenv("PUSHER_ENCRYPTION_MASTER_KEY", raising=False)


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Run:
    def run(*argv: str, stdin: bytes = b"") -> Result:
        monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8"))
        status = main(list(argv))
        captured = capsys.readouterr()
        return Result(status, captured.out, captured.err)

    return run


def local_config(**options: Any) -> Config:
    return Config.for_url(LOCAL_URL, **options)


def app_url(server: LoopbackHTTPServer, secret: str = "app-secret") -> str:
    return f"http://app-key:{secret}@127.0.0.1:{server.port}/apps/app-id"


def serve(reply: Any, status: int = 200) -> Callable[..., Any]:
    def handler(method: str, path: str, headers: Any, body: bytes) -> Any:
        return reply_json(status, reply)

    return handler


@pytest.fixture
def server(http_server: Callable[..., LoopbackHTTPServer]) -> LoopbackHTTPServer:
    return http_server()


# sign


def verify_argv(headers: object, body: object) -> list[str]:
    """Return the arguments of ``webhook verify`` against the local app."""
    return ["--url", LOCAL_URL, "webhook", "verify", "--headers", str(headers), "--body", str(body)]


def test_sign_matches_builder(cli: Run) -> None:
    body = '{"name":"e","channels":["c"],"data":"{}"}'
    builder = RequestBuilder(local_config(), clock=lambda: TIMESTAMP)
    expected = builder.create_signed_query_string("POST", "/apps/app-id/events", body)

    result = cli(
        "--url",
        LOCAL_URL,
        "sign",
        "POST",
        "/apps/app-id/events",
        "--body",
        body,
        "--timestamp",
        str(TIMESTAMP),
    )

    assert result.status == 0
    assert result.out == expected + "\n"
    assert result.err == ""


def test_sign_relative_path_and_params(cli: Run) -> None:
    builder = RequestBuilder(local_config(), clock=lambda: TIMESTAMP)
    expected = builder.create_signed_query_string(
        "GET", "/apps/app-id/channels", None, {"info": "user_count", "filter_by_prefix": "p"}
    )

    result = cli(
        "--url",
        LOCAL_URL,
        "sign",
        "get",
        "/channels",
        "--param",
        "info=user_count",
        "--param",
        "filter_by_prefix=p",
        "--timestamp",
        str(TIMESTAMP),
    )

    assert result.status == 0
    assert result.out.strip() == expected


def test_sign_body_file_bytes_exact(cli: Run, tmp_path: Path) -> None:
    body = b'{"name":"e","channels":["c"],"data":"caf\xc3\xa9\\n"}\n'
    (tmp_path / "body.json").write_bytes(body)
    builder = RequestBuilder(local_config(), clock=lambda: TIMESTAMP)
    expected = builder.create_signed_query_string("POST", "/apps/app-id/events", body)

    result = cli(
        "--url",
        LOCAL_URL,
        "sign",
        "POST",
        "/events",
        "--body-file",
        str(tmp_path / "body.json"),
        "--timestamp",
        str(TIMESTAMP),
    )

    assert result.out.strip() == expected


def test_sign_url_output_with_base_path(cli: Run) -> None:
    url = "http://app-key:app-secret@127.0.0.1:6001/pusher/apps/app-id"
    builder = RequestBuilder(Config.for_url(url), clock=lambda: TIMESTAMP)
    query = builder.create_signed_query_string("GET", "/apps/app-id/channels")

    result = cli(
        "--url", url, "sign", "GET", "/channels", "--timestamp", str(TIMESTAMP), "--url-output"
    )

    assert result.out.strip() == f"http://127.0.0.1:6001/pusher/apps/app-id/channels?{query}"


def test_sign_json_output(cli: Run) -> None:
    result = cli(
        "--json", "--url", LOCAL_URL, "sign", "GET", "/channels", "--timestamp", str(TIMESTAMP)
    )

    value = result.json()
    assert value["method"] == "GET"
    assert value["path"] == "/apps/app-id/channels"
    assert value["url"] == f"http://127.0.0.1:6001/apps/app-id/channels?{value['query_string']}"
    assert "auth_timestamp=1700000000" in value["query_string"]


@pytest.mark.parametrize(
    "arguments",
    [
        ("GET", "channels"),
        ("GET", "/channels?info=x"),
        ("GET", "/channels", "--param", "info"),
        ("GET", "/channels", "--param", "a=1", "--param", "a=2"),
        ("GET", "/channels", "--param", "auth_key=x"),
        ("GET", "/channels", "--timestamp", "soon"),
        ("POST", "/events", "--body", "{}", "--body-file", "x"),
        ("G-T", "/channels"),
    ],
)
def test_sign_invalid_input(cli: Run, arguments: tuple[str, ...]) -> None:
    result = cli("--url", LOCAL_URL, "sign", *arguments)

    assert result.status == ExitStatus.INVALID_INPUT
    assert result.out == ""
    assert result.err.startswith("pusher-channels: error: ")
    assert result.err.count("\n") == 1


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (("BREW", "/channels"), "argument METHOD: invalid choice: 'BREW'"),
        (("DELETE", "/channels"), "argument METHOD: invalid choice: 'DELETE'"),
        (
            ("GET", "/channels", "--timestamp", "-5"),
            "argument --timestamp: must be an integer >= 0",
        ),
        (
            ("GET", "/channels", "--timestamp", "1.5"),
            "argument --timestamp: must be an integer >= 0",
        ),
    ],
)
def test_sign_rejects_method_and_timestamp(
    cli: Run, arguments: tuple[str, ...], expected: str
) -> None:
    result = cli("--url", LOCAL_URL, "sign", *arguments)

    assert result.status == ExitStatus.INVALID_INPUT
    assert result.out == ""
    assert result.err.startswith(f"pusher-channels: error: {expected}")
    assert result.err.count("\n") == 1


def test_sign_accepts_lower_case_post(cli: Run) -> None:
    builder = RequestBuilder(local_config(), clock=lambda: 0)
    expected = builder.create_signed_query_string("POST", "/apps/app-id/events", None)

    result = cli("--url", LOCAL_URL, "--json", "sign", "post", "/events", "--timestamp", "0")

    assert result.status == 0
    assert result.json()["method"] == "POST"
    assert result.json()["query_string"] == expected


# configuration


def test_config_from_environment(cli: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PUSHER_URL", LOCAL_URL)

    result = cli("--json", "sign", "GET", "/channels")

    assert result.status == 0
    assert result.json()["path"] == "/apps/app-id/channels"


def test_config_from_flags(cli: Run) -> None:
    builder = RequestBuilder(
        Config(app_id="9", key="k", secret=CANARY_SECRET, host="example.test", tls=False),
        clock=lambda: TIMESTAMP,
    )
    expected = builder.create_signed_query_string("GET", "/apps/9/channels")

    result = cli(
        "sign",
        "GET",
        "/channels",
        "--app-id",
        "9",
        "--key",
        "k",
        "--secret",
        CANARY_SECRET,
        "--host",
        "example.test",
        "--no-tls",
        "--url-output",
        "--timestamp",
        str(TIMESTAMP),
    )

    assert result.status == 0
    assert result.out.strip() == f"http://example.test:80/apps/9/channels?{expected}"


def test_config_flags_override_url(cli: Run) -> None:
    result = cli(
        "--json",
        "--url",
        LOCAL_URL,
        "--host",
        "other.test",
        "--port",
        "7000",
        "--base-path",
        "/ws",
        "sign",
        "GET",
        "/channels",
    )

    assert result.json()["url"].startswith("http://other.test:7000/ws/apps/app-id/channels?")


def test_secret_file_and_stdin(cli: Run, tmp_path: Path) -> None:
    (tmp_path / "secret").write_text(CANARY_SECRET + "\n")
    common = ("--app-id", "9", "--key", "k", "sign", "GET", "/channels", "--timestamp", "1")
    builder = RequestBuilder(Config(app_id="9", key="k", secret=CANARY_SECRET), clock=lambda: 1)
    expected = builder.create_signed_query_string("GET", "/apps/9/channels") + "\n"

    from_file = cli("--secret-file", str(tmp_path / "secret"), *common)
    from_stdin = cli("--secret-stdin", *common, stdin=CANARY_SECRET.encode() + b"\r\n")

    assert from_file.out == expected
    assert from_stdin.out == expected


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (("--app-id", "9", "--key", "k"), "missing --secret"),
        (("--app-id", "9", "--secret", "s"), "missing --key"),
        (("--secret", "a", "--secret-stdin", "--url", LOCAL_URL), "give only one of"),
        (("--secret-file", "/nonexistent/secret", "--url", LOCAL_URL), "cannot read"),
        (("--url", LOCAL_URL, "--cluster", "eu"), "use --host"),
        (("--url", "ftp://k:s@host/apps/1"), "unsupported scheme"),
        (("--url", LOCAL_URL, "--timeout", "-1"), "--timeout"),
        (("--url", LOCAL_URL, "--transport", "carrier-pigeon"), "choose from: urllib3"),
    ],
)
def test_config_errors(cli: Run, arguments: tuple[str, ...], expected: str) -> None:
    result = cli(*arguments, "channels")

    assert result.status == ExitStatus.INVALID_INPUT
    assert expected in result.err
    assert result.err.count("\n") == 1


def test_options_after_command(cli: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PUSHER_URL", LOCAL_URL)

    before = cli("--json", "--host", "a.test", "sign", "GET", "/x", "--timestamp", "1")
    after = cli("sign", "GET", "/x", "--timestamp", "1", "--json", "--host", "a.test")

    assert before.out == after.out
    assert before.json()["url"].startswith("http://a.test:6001/")


# auth


def test_auth_private_channel(cli: Run) -> None:
    result = cli("--url", LOCAL_URL, "auth", "channel", "123.456", "private-room")

    assert result.status == 0
    assert result.json() == authorize_channel(local_config(), "123.456", "private-room")


def test_auth_presence_channel(cli: Run) -> None:
    member = {"user_id": "u1", "user_info": {"name": "Zoë"}}

    result = cli(
        "--url",
        LOCAL_URL,
        "auth",
        "channel",
        "1.2",
        "presence-room",
        "--channel-data",
        json.dumps(member),
    )

    assert result.json() == authorize_channel(local_config(), "1.2", "presence-room", member)


def test_auth_encrypted_channel(cli: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PUSHER_ENCRYPTION_MASTER_KEY", MASTER_KEY)
    config = local_config(encryption_master_key_base64=MASTER_KEY)

    result = cli("--url", LOCAL_URL, "auth", "channel", "1.2", "private-encrypted-room")

    assert result.json() == authorize_channel(config, "1.2", "private-encrypted-room")
    assert MASTER_KEY not in result.out


def test_auth_user(cli: Run) -> None:
    user = {"id": "u1", "user_info": {"name": "Ann"}}

    result = cli("--url", LOCAL_URL, "auth", "user", "1.2", "--user-data", json.dumps(user))

    assert result.json() == authenticate_user(local_config(), "1.2", user)


@pytest.mark.parametrize(
    "arguments",
    [
        ("channel", "1.2", "public-room"),
        ("channel", "1.2", "presence-room"),
        ("channel", "1.2", "private-room", "--channel-data", "{"),
        ("channel", "1.2", "private-encrypted-room"),
        ("channel", "not-a-socket", "private-room"),
        ("user", "1.2", "--user-data", '["u1"]'),
        ("user", "1.2", "--user-data", '{"name": "no id"}'),
        ("user", "1.2"),
    ],
)
def test_auth_invalid_input(cli: Run, arguments: tuple[str, ...]) -> None:
    result = cli("--url", LOCAL_URL, "auth", *arguments)

    assert result.status == ExitStatus.INVALID_INPUT
    assert result.out == ""
    assert result.err.count("\n") == 1


def test_auth_encrypted_without_key_hint(cli: Run) -> None:
    result = cli("--url", LOCAL_URL, "auth", "channel", "1.2", "private-encrypted-room")

    assert "--master-key-file" in result.err


# webhooks


OCCUPIED = {"name": "channel_occupied", "channel": "room"}


def test_webhook_sign_matches_core(cli: Run) -> None:
    headers, body = sign_webhook(local_config(), [OCCUPIED], 1234)

    result = cli(
        "--json",
        "--url",
        LOCAL_URL,
        "webhook",
        "sign",
        "--events",
        json.dumps(OCCUPIED),
        "--time-ms",
        "1234",
    )

    assert result.json() == {"headers": headers, "body": body.decode()}


def test_webhook_sign_text_output(cli: Run) -> None:
    headers, body = sign_webhook(local_config(), [OCCUPIED], 1234)
    expected = "".join(f"{name}: {value}\n" for name, value in headers.items())

    result = cli(
        "--url",
        LOCAL_URL,
        "webhook",
        "sign",
        "--events",
        json.dumps([OCCUPIED]),
        "--time-ms",
        "1234",
    )

    assert result.out == f"{expected}\n{body.decode()}\n"


def test_webhook_round_trip(cli: Run, tmp_path: Path) -> None:
    headers_path, body_path = tmp_path / "headers.txt", tmp_path / "body.json"
    signed = cli(
        "--url",
        LOCAL_URL,
        "webhook",
        "sign",
        "--events",
        json.dumps(OCCUPIED),
        "--time-ms",
        "1234",
        "--headers-out",
        str(headers_path),
        "--body-out",
        str(body_path),
    )
    assert signed.status == 0

    verified = cli(
        *verify_argv(headers_path, body_path),
    )

    assert verified.status == 0
    assert verified.out.splitlines() == [
        "valid",
        "key: app-key",
        "time_ms: 1234",
        "event: channel_occupied channel=room",
    ]


def write_webhook(tmp_path: Path, secret: str = "app-secret") -> tuple[Path, Path]:
    headers, body = sign_webhook(("app-key", secret), [OCCUPIED], 1234)
    headers_path, body_path = tmp_path / "headers.json", tmp_path / "body.json"
    headers_path.write_text(json.dumps(headers))
    body_path.write_bytes(body)
    return headers_path, body_path


def test_webhook_verify_json_headers(cli: Run, tmp_path: Path) -> None:
    headers_path, body_path = write_webhook(tmp_path)

    result = cli(
        "--json",
        *verify_argv(headers_path, body_path),
    )

    assert result.json() == {
        "valid": True,
        "reason": None,
        "key": "app-key",
        "time_ms": 1234,
        "events": [OCCUPIED],
    }


def test_webhook_verify_dumped_request(cli: Run, tmp_path: Path) -> None:
    headers, body = sign_webhook(local_config(), [OCCUPIED], 1234)
    dump = "POST /webhooks HTTP/1.1\r\nHost: 127.0.0.1\r\n"
    dump += "".join(f"{name}: {value}\r\n" for name, value in headers.items()) + "\r\n"
    (tmp_path / "headers").write_text(dump)

    result = cli(
        *verify_argv(tmp_path / "headers", "-"),
        stdin=body,
    )

    assert result.status == 0
    assert result.out.startswith("valid\n")


def test_webhook_verify_wrong_secret(cli: Run, tmp_path: Path) -> None:
    headers_path, body_path = write_webhook(tmp_path, secret="other-secret")

    result = cli(
        *verify_argv(headers_path, body_path),
    )

    assert result.status == ExitStatus.REJECTED
    assert result.out == "invalid: bad_signature\n"
    assert result.err == ""


def test_webhook_verify_tampered_body(cli: Run, tmp_path: Path) -> None:
    headers_path, body_path = write_webhook(tmp_path)
    body_path.write_bytes(body_path.read_bytes().replace(b"room", b"roam"))

    result = cli(
        "--json",
        *verify_argv(headers_path, body_path),
    )

    assert result.status == ExitStatus.REJECTED
    assert result.json() == {"valid": False, "reason": "bad_signature", "key": "app-key"}


def test_webhook_verify_stale(cli: Run, tmp_path: Path) -> None:
    headers_path, body_path = write_webhook(tmp_path)

    result = cli(
        *verify_argv(headers_path, body_path),
        "--max-age",
        "300",
    )

    assert result.status == ExitStatus.REJECTED
    assert result.out == "invalid: stale\n"


@pytest.mark.parametrize(
    ("headers_text", "expected"),
    [
        ("Content-Type application/json\n", "line 1 is not 'Name: value'"),
        ('{"X-Pusher-Key": 1}', "must be a str"),
        ("{not json", "not valid JSON"),
    ],
)
def test_webhook_verify_bad_headers_file(
    cli: Run, tmp_path: Path, headers_text: str, expected: str
) -> None:
    (tmp_path / "headers").write_text(headers_text)
    (tmp_path / "body").write_text("{}")

    result = cli(
        *verify_argv(tmp_path / "headers", tmp_path / "body"),
    )

    assert result.status == ExitStatus.INVALID_INPUT
    assert expected in result.err


def test_webhook_verify_missing_file(cli: Run, tmp_path: Path) -> None:
    result = cli(
        *verify_argv(tmp_path / "none", tmp_path / "none"),
    )

    assert result.status == ExitStatus.INVALID_INPUT
    assert "cannot read" in result.err
    assert "No such file or directory" in result.err


def test_stdin_read_only_once(cli: Run, tmp_path: Path) -> None:
    result = cli(
        "--url", LOCAL_URL, "webhook", "verify", "--headers", "-", "--body", "-", stdin=b"{}"
    )

    assert result.status == ExitStatus.INVALID_INPUT
    assert "already read it" in result.err


# decrypt


def sealed(channel: str, value: Any, master_key: str = MASTER_KEY) -> str:
    config = local_config(encryption_master_key_base64=master_key)
    return encryption.encrypt(config, channel, value, nonce=bytes(24))


def test_decrypt_with_key_file(cli: Run, tmp_path: Path) -> None:
    (tmp_path / "key").write_text(MASTER_KEY + "\n")
    data = sealed("private-encrypted-room", {"message": "héllo"})

    result = cli(
        "decrypt",
        "--master-key-file",
        str(tmp_path / "key"),
        "--channel",
        "private-encrypted-room",
        data,
    )

    assert result.status == 0
    assert json.loads(result.out) == {"message": "héllo"}


def test_decrypt_from_stdin_json(cli: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PUSHER_ENCRYPTION_MASTER_KEY", MASTER_KEY)
    data = sealed("private-encrypted-room", "plain text")

    result = cli(
        "--json", "decrypt", "--channel", "private-encrypted-room", "-", stdin=data.encode() + b"\n"
    )

    assert result.json() == {"channel": "private-encrypted-room", "data": "plain text"}


@pytest.mark.parametrize(
    ("channel", "data", "master_key", "expected"),
    [
        ("private-encrypted-room", None, OTHER_MASTER_KEY, "decryption failed"),
        ("private-encrypted-other", None, MASTER_KEY, "decryption failed"),
        ("private-room", None, MASTER_KEY, "not a private-encrypted- channel"),
        ("private-encrypted-room", "{}", MASTER_KEY, "not an encrypted event"),
        ("private-encrypted-room", None, None, "PUSHER_ENCRYPTION_MASTER_KEY"),
        ("private-encrypted-room", None, "bm90IDMyIGJ5dGVz", "must decode to 32 bytes"),
    ],
)
def test_decrypt_errors(
    cli: Run,
    monkeypatch: pytest.MonkeyPatch,
    channel: str,
    data: str | None,
    master_key: str | None,
    expected: str,
) -> None:
    if master_key is not None:
        monkeypatch.setenv("PUSHER_ENCRYPTION_MASTER_KEY", master_key)
    text = data if data is not None else sealed("private-encrypted-room", {"a": 1})

    result = cli("decrypt", "--channel", channel, text)

    assert result.status == ExitStatus.INVALID_INPUT
    assert expected in result.err
    for key in (MASTER_KEY, OTHER_MASTER_KEY):
        assert key not in result.err


# commands that make requests


def test_trigger_sends_data_as_given(cli: Run, server: LoopbackHTTPServer) -> None:
    result = cli(
        "--url", app_url(server), "trigger", "-c", "a", "-c", "b", "-e", "greet", '{"n": 1}'
    )

    assert result.status == 0
    assert result.out == "published 'greet' on a, b\n"
    [request] = server.requests
    assert request.route == "/apps/app-id/events"
    assert request.json() == {"name": "greet", "channels": ["a", "b"], "data": '{"n": 1}'}


def test_trigger_data_sources(cli: Run, server: LoopbackHTTPServer, tmp_path: Path) -> None:
    (tmp_path / "data").write_bytes("from file é".encode())
    url = app_url(server)

    cli("--url", url, "trigger", "-c", "a", "-e", "e", "--data-file", str(tmp_path / "data"))
    cli("--url", url, "trigger", "-c", "a", "-e", "e", "-", stdin=b"from stdin")

    sent = [request.json()["data"] for request in server.requests]
    assert sent == ["from file é", "from stdin"]


def test_trigger_info_json(cli: Run, http_server: Callable[..., LoopbackHTTPServer]) -> None:
    server = http_server(serve({"channels": {"a": {"subscription_count": 2}}}))

    result = cli(
        "--json",
        "--url",
        app_url(server),
        "trigger",
        "-c",
        "a",
        "-e",
        "e",
        "x",
        "--info",
        "subscription_count",
    )

    assert result.json() == {"ok": True, "channels": {"a": {"subscription_count": 2}}}
    assert server.requests[0].json()["info"] == "subscription_count"


def test_trigger_encrypted_channel(
    cli: Run, server: LoopbackHTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PUSHER_ENCRYPTION_MASTER_KEY", MASTER_KEY)
    config = local_config(encryption_master_key_base64=MASTER_KEY)

    result = cli(
        "--url",
        app_url(server),
        "trigger",
        "-c",
        "private-encrypted-room",
        "-e",
        "e",
        '{"secret": "plan"}',
    )

    assert result.status == 0
    data = server.requests[0].json()["data"]
    assert "plan" not in data
    assert encryption.decrypt(config, "private-encrypted-room", data) == {"secret": "plan"}


@pytest.mark.parametrize(
    "arguments",
    [
        ("-c", "a", "-e", "e"),
        ("-c", "a", "-e", "e", "x", "--data-file", "y"),
        ("-c", "bad channel", "-e", "e", "x"),
        ("-c", "a", "-e", "e", "x", "--socket-id", "1"),
        ("-e", "e", "x"),
    ],
)
def test_trigger_invalid_input(
    cli: Run, server: LoopbackHTTPServer, arguments: tuple[str, ...]
) -> None:
    result = cli("--url", app_url(server), "trigger", *arguments)

    assert result.status == ExitStatus.INVALID_INPUT
    assert server.requests == []


def test_channels_output(cli: Run, http_server: Callable[..., LoopbackHTTPServer]) -> None:
    reply = {"channels": {"presence-a": {"user_count": 3}, "presence-b": {"user_count": 1}}}
    server = http_server(serve(reply))
    url = app_url(server)

    text = cli("--url", url, "channels", "--prefix", "presence-", "--info", "user_count")
    as_json = cli("--url", url, "--json", "channels")

    assert text.out == "presence-a user_count=3\npresence-b user_count=1\n"
    assert as_json.json() == reply
    assert "filter_by_prefix=presence-" in server.requests[0].path


def test_channel_output(cli: Run, http_server: Callable[..., LoopbackHTTPServer]) -> None:
    server = http_server(serve({"occupied": True, "subscription_count": 4}))
    url = app_url(server)

    text = cli("--url", url, "channel", "room", "--info", "subscription_count")
    as_json = cli("--url", url, "--json", "channel", "room")

    assert text.out == "occupied: true\nsubscription_count: 4\n"
    assert as_json.json() == {"occupied": True, "subscription_count": 4}
    assert server.requests[0].route == "/apps/app-id/channels/room"


def test_users_output(cli: Run, http_server: Callable[..., LoopbackHTTPServer]) -> None:
    server = http_server(serve({"users": [{"id": "u1"}, {"id": "u2"}]}))
    url = app_url(server)

    text = cli("--url", url, "users", "presence-room")
    as_json = cli("--url", url, "--json", "users", "presence-room")

    assert text.out == "u1\nu2\n"
    assert as_json.json() == {"users": [{"id": "u1"}, {"id": "u2"}]}


def test_terminate_output(cli: Run, server: LoopbackHTTPServer) -> None:
    result = cli("--url", app_url(server), "terminate", "user 1")

    assert result.status == 0
    assert result.out == "terminated the connections of user 'user 1'\n"
    assert server.requests[0].route == "/apps/app-id/users/user%201/terminate_connections"


@pytest.mark.parametrize("transport", ["urllib3", "pool", "aiohttp"])
def test_transport_choice(cli: Run, server: LoopbackHTTPServer, transport: str) -> None:
    result = cli("--url", app_url(server), "--transport", transport, "channels")

    assert result.status == 0
    assert len(server.requests) == 1


def test_transport_proxy_needs_setup(cli: Run, server: LoopbackHTTPServer) -> None:
    result = cli("--url", app_url(server), "--transport", "proxy", "channels")

    assert result.status == ExitStatus.INVALID_INPUT
    assert result.err.startswith("pusher-channels: error: ")
    assert "proxy" in result.err
    assert server.requests == []


def test_proxy_option_implies_proxy_transport(
    cli: Run, http_server: Callable[..., LoopbackHTTPServer]
) -> None:
    # A loopback server acts as the proxy. It receives the absolute-form target and
    # replies itself, so the app server must receive nothing.
    app = http_server()
    proxy = http_server(serve({"channels": {}}))

    result = cli("--url", app_url(app), "--proxy", f"http://127.0.0.1:{proxy.port}", "channels")

    assert result.status == 0
    assert app.requests == []
    [request] = proxy.requests
    assert request.path.startswith(f"http://127.0.0.1:{app.port}/apps/app-id/channels?")


@pytest.mark.parametrize("command", [("channels",), ("sign", "GET", "/channels")])
@pytest.mark.parametrize("transport", ["urllib3", "pool", "aiohttp"])
def test_proxy_with_other_transport_rejected(
    cli: Run, server: LoopbackHTTPServer, transport: str, command: tuple[str, ...]
) -> None:
    proxy_url = f"http://127.0.0.1:{free_port()}"

    result = cli("--url", app_url(server), "--transport", transport, "--proxy", proxy_url, *command)

    assert result.status == ExitStatus.INVALID_INPUT
    assert result.out == ""
    assert result.err.startswith(
        "pusher-channels: error: --proxy: works only with --transport proxy"
    )
    assert f"got --transport {transport}" in result.err
    assert result.err.count("\n") == 1
    assert server.requests == []


def test_verbose_logs_requests(cli: Run, server: LoopbackHTTPServer) -> None:
    result = cli("--url", app_url(server), "-v", "channels")

    assert result.status == 0
    assert result.err.startswith("pusher-channels: pusher.transport.urllib3: ")
    assert "GET /apps/app-id/channels" in result.err
    assert "auth_signature" not in result.err


# batch


def batch_lines(count: int, channels: int = 3) -> bytes:
    lines = [
        json.dumps({"channel": f"ch-{index % channels}", "name": "e", "data": {"i": index}})
        for index in range(count)
    ]
    return ("\n".join(lines) + "\n").encode()


def sent_events(server: LoopbackHTTPServer) -> list[dict[str, Any]]:
    return [event for request in server.requests for event in request.json()["batch"]]


def test_batch_ordered_chunks(cli: Run, server: LoopbackHTTPServer, tmp_path: Path) -> None:
    (tmp_path / "events.jsonl").write_bytes(batch_lines(25))

    result = cli(
        "--url",
        app_url(server),
        "batch",
        str(tmp_path / "events.jsonl"),
        "--ordered",
        "--progress-every",
        "10",
    )

    assert result.status == 0
    assert result.out == "sent 25 events\n"
    assert result.err.splitlines() == [
        "pusher-channels: sent 10 of 25 events",
        "pusher-channels: sent 20 of 25 events",
    ]
    assert [len(request.json()["batch"]) for request in server.requests] == [10, 10, 5]
    assert [json.loads(event["data"])["i"] for event in sent_events(server)] == list(range(25))


def test_batch_bulk_from_stdin(cli: Run, server: LoopbackHTTPServer) -> None:
    result = cli("--json", "--url", app_url(server), "batch", stdin=batch_lines(40))

    assert result.status == 0
    assert result.json() == {"ok": True, "sent": 40}
    assert all(len(request.json()["batch"]) <= 10 for request in server.requests)
    indexes = sorted(json.loads(event["data"])["i"] for event in sent_events(server))
    assert indexes == list(range(40))


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b'{"channel": "a", "name": "e", "data": 1}\nnot json\n', "line 2: is not valid JSON"),
        (b'{"channel": "a", "name": "e"}\n', "line 1: data: is missing"),
        (b'{"channel": "a b", "name": "e", "data": 1}\n', "line 1: channel:"),
        (b"\n\n", "contains no events"),
        (b"[1]\n", "must be a JSON object"),
    ],
)
def test_batch_invalid_line_sends_nothing(
    cli: Run, server: LoopbackHTTPServer, content: bytes, expected: str
) -> None:
    result = cli("--url", app_url(server), "batch", "-", stdin=content)

    assert result.status == ExitStatus.INVALID_INPUT
    assert expected in result.err
    assert server.requests == []


def test_batch_stops_at_first_rejection(
    cli: Run, http_server: Callable[..., LoopbackHTTPServer]
) -> None:
    server = http_server(serve({"error": "no"}, status=403))

    result = cli("--url", app_url(server), "batch", "--ordered", stdin=batch_lines(30))

    assert result.status == ExitStatus.REJECTED
    assert len(server.requests) == 1
    assert result.err.splitlines() == [
        "pusher-channels: sent 0 of 30 events before the failure",
        "pusher-channels: error: POST /apps/app-id/batch_events failed with status 403: "
        '{"error": "no"}',
    ]


def test_batch_bulk_rejection(cli: Run, http_server: Callable[..., LoopbackHTTPServer]) -> None:
    server = http_server(serve({"error": "no"}, status=401))

    result = cli("--url", app_url(server), "batch", stdin=batch_lines(30))

    assert result.status == ExitStatus.REJECTED
    assert "failed with status 401" in result.err


# exit statuses and secrets


def test_exit_status_rejected(cli: Run, http_server: Callable[..., LoopbackHTTPServer]) -> None:
    server = http_server(serve({"error": "invalid signature"}, status=401))

    result = cli("--url", app_url(server), "trigger", "-c", "a", "-e", "e", "x")

    assert result.status == 1
    assert result.err == (
        "pusher-channels: error: POST /apps/app-id/events failed with status 401: "
        '{"error": "invalid signature"}\n'
    )


def test_rejection_body_escaped(cli: Run, http_server: Callable[..., LoopbackHTTPServer]) -> None:
    # A body with a line break and terminal escape codes: clear the screen, set the
    # window title, and go back to the start of the line to overwrite it.
    body = b"bad\x1b[2J\x1b]0;pwned\x07\rpusher-channels: ok\nsent"
    server = http_server(lambda *request: (401, {"Content-Type": "text/plain"}, body))

    result = cli("--url", app_url(server), "channels")

    assert result.status == ExitStatus.REJECTED
    assert result.err.count("\n") == 1
    assert "\x1b" not in result.err
    assert "\r" not in result.err
    assert "\x07" not in result.err
    assert "bad\\x1b[2J\\x1b]0;pwned\\x07\\rpusher-channels: ok\\nsent" in result.err


def test_exit_status_unexpected_response(
    cli: Run, http_server: Callable[..., LoopbackHTTPServer]
) -> None:
    server = http_server(serve(["not", "an", "object"]))

    result = cli("--url", app_url(server), "channels")

    assert result.status == ExitStatus.REJECTED


def test_exit_status_network_failure(cli: Run) -> None:
    url = f"http://app-key:app-secret@127.0.0.1:{free_port()}/apps/app-id"

    result = cli("--url", url, "channels")

    assert result.status == 3
    assert result.err.startswith("pusher-channels: error: GET /apps/app-id/channels: connection")
    assert result.err.count("\n") == 1


def test_json_failure_for_rejection(
    cli: Run, http_server: Callable[..., LoopbackHTTPServer]
) -> None:
    server = http_server(serve({"error": "invalid signature"}, status=401))

    result = cli("--json", "--url", app_url(server), "trigger", "-c", "a", "-e", "e", "x")

    message = 'POST /apps/app-id/events failed with status 401: {"error": "invalid signature"}'
    assert result.status == ExitStatus.REJECTED
    assert result.json() == {
        "ok": False,
        "error": "AuthenticationError",
        "status": 401,
        "message": message,
    }
    assert result.err == f"pusher-channels: error: {message}\n"


def test_json_failure_for_in_band_rejection(
    cli: Run, http_server: Callable[..., LoopbackHTTPServer]
) -> None:
    server = http_server(serve({"error": "app is over quota", "code": "quota"}))

    result = cli("--url", app_url(server), "trigger", "-c", "a", "-e", "e", "x", "--json")

    assert result.status == ExitStatus.REJECTED
    failure = result.json()
    assert failure["error"] == "RequestError"
    assert failure["status"] == 200
    assert "app is over quota" in failure["message"]


def test_json_failure_for_network_failure(cli: Run) -> None:
    url = f"http://app-key:app-secret@127.0.0.1:{free_port()}/apps/app-id"

    result = cli("--json", "--url", url, "channels")

    assert result.status == ExitStatus.NETWORK_FAILURE
    failure = result.json()
    assert failure["ok"] is False
    assert failure["error"] == "ConnectionFailedError"
    assert failure["status"] is None
    assert failure["message"].startswith("GET /apps/app-id/channels: connection")
    assert result.err == f"pusher-channels: error: {failure['message']}\n"


def test_json_failure_for_invalid_input(cli: Run, server: LoopbackHTTPServer) -> None:
    result = cli("--json", "--url", app_url(server), "trigger", "-c", "a b", "-e", "e", "x")

    assert result.status == ExitStatus.INVALID_INPUT
    failure = result.json()
    assert failure["error"] == "ValidationError"
    assert failure["status"] is None
    assert failure["message"].startswith("channels[0]: ")
    assert server.requests == []


def test_failure_without_json_prints_no_stdout(
    cli: Run, http_server: Callable[..., LoopbackHTTPServer]
) -> None:
    server = http_server(serve({"error": "no"}, status=403))

    result = cli("--url", app_url(server), "channels")

    assert result.status == ExitStatus.REJECTED
    assert result.out == ""


def test_exit_status_usage_error(cli: Run) -> None:
    result = cli("no-such-command")

    assert result.status == 2
    assert result.err.startswith("pusher-channels: error: argument COMMAND: invalid choice")
    assert result.err.count("\n") == 1


def test_exit_status_internal_error(cli: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError(CANARY_SECRET)

    monkeypatch.setattr("pusher_transports.cli._local.authorize_channel", broken)

    result = cli("--url", LOCAL_URL, "auth", "channel", "1.2", "private-a")

    assert result.status == ExitStatus.INTERNAL_ERROR
    assert "RuntimeError" in result.err
    assert CANARY_SECRET not in result.err


def test_help_and_version(cli: Run) -> None:
    help_result = cli("--help")
    version = cli("--version")

    assert help_result.status == 0
    assert "exit status" in help_result.out
    assert version.status == 0
    assert version.out.startswith("pusher-channels ")


@pytest.fixture
def canary_runs(
    http_server: Callable[..., LoopbackHTTPServer], tmp_path: Path
) -> list[tuple[str, ...]]:
    rejecting = http_server(serve({"error": "no"}, status=401))
    url = app_url(rejecting, CANARY_SECRET)
    closed = f"http://app-key:{CANARY_SECRET}@127.0.0.1:{free_port()}/apps/app-id"
    headers_path, body_path = write_webhook(tmp_path)
    return [
        ("--url", url, "trigger", "-c", "a", "-e", "e", "x"),
        ("--url", url, "batch", "-"),
        ("--url", url, "-v", "channels"),
        ("--url", closed, "users", "presence-a"),
        ("--url", url.replace("127.0.0.1:", "127.0.0.1:99999"), "channels"),
        ("--url", url.replace("http:", "ftp:"), "channels"),
        ("--url", url + "/extra", "channels"),
        ("--url", url, "--cluster", "eu", "channels"),
        ("--app-id", "1", "--key", "k", "--secret", f" {CANARY_SECRET} ", "channels"),
        ("--app-id", "1", "--key", "k", "--secret", CANARY_SECRET, "--host", "a b", "channels"),
        ("--url", url, "trigger", "-c", "a", "-e", "e", f"--secrt={CANARY_SECRET}"),
        (
            "--url",
            url,
            "webhook",
            "verify",
            "--headers",
            str(headers_path),
            "--body",
            str(body_path),
        ),
        ("--url", url, "webhook", "sign", "--events", "[1]"),
        ("--url", url, "sign", "GET", "/channels?x"),
        ("--url", url, "--json", "sign", "GET", "/channels"),
        ("--url", url, "auth", "channel", "1.2", "private-a"),
        ("--url", url, "--help"),
    ]


def test_canary_secret_never_printed(
    cli: Run, canary_runs: list[tuple[str, ...]], monkeypatch: pytest.MonkeyPatch
) -> None:
    statuses = set()
    for arguments in canary_runs:
        result = cli(*arguments, stdin=batch_lines(3))
        statuses.add(result.status)
        assert CANARY_SECRET not in result.out, arguments
        assert CANARY_SECRET not in result.err, arguments

    assert statuses == {0, 1, 2, 3}


# entry points


@pytest.mark.parametrize(
    "command",
    [
        [str(Path(sys.executable).with_name("pusher-channels")), "--help"],
        [sys.executable, "-m", "pusher_transports", "--help"],
    ],
    ids=["console-script", "python-m"],
)
def test_entry_point_help(command: list[str]) -> None:
    environment = {**os.environ, "PUSHER_URL": ""}

    completed = subprocess.run(
        command, capture_output=True, text=True, timeout=60, check=False, env=environment
    )

    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.startswith("usage: pusher-channels")
