"""The pusher-channels command line against a real soketi, with pusher-js receiving."""

from __future__ import annotations

import io
import itertools
import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pusher_transports.cli import main
from tests.support.peers import LoopbackHTTPServer, SoketiServer, Subscriber, run_soketi
from tests.support.tinyproxy import run_tinyproxy

pytestmark = pytest.mark.e2e

_counter = itertools.count()
CONSOLE_SCRIPT = str(Path(sys.executable).with_name("pusher-channels"))


def unique(prefix: str) -> str:
    """Return a channel name no other test in this session uses."""
    return f"cli-{prefix}-{next(_counter)}"


def subscribed(
    subscriber: Callable[..., Subscriber], *channels: str, **options: object
) -> Subscriber:
    listener = subscriber(list(channels), **options)
    listener.wait_subscribed(channels)
    return listener


def run_cli(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    *argv: str,
    stdin: bytes = b"",
) -> tuple[int, str, str]:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(stdin), encoding="utf-8"))
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_trigger_console_script(
    soketi: SoketiServer, subscriber: Callable[..., Subscriber]
) -> None:
    channel = unique("trigger")
    listener = subscribed(subscriber, channel)

    completed = subprocess.run(
        [CONSOLE_SCRIPT, "trigger", "-c", channel, "-e", "greeting", '{"message": "hello"}'],
        env={"PUSHER_URL": soketi.url, "PATH": ""},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr
    [event] = listener.events(1)
    assert event["channel"] == channel
    assert event["event"] == "greeting"
    assert event["data"] == {"message": "hello"}


@pytest.mark.parametrize("transport", ["urllib3", "pool", "aiohttp"])
def test_trigger_each_transport(
    soketi: SoketiServer,
    subscriber: Callable[..., Subscriber],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    transport: str,
) -> None:
    channel = unique(transport)
    listener = subscribed(subscriber, channel)

    status, _, err = run_cli(
        capsys,
        monkeypatch,
        "--url",
        soketi.url,
        "--transport",
        transport,
        "trigger",
        "-c",
        channel,
        "-e",
        "e",
        "-",
        stdin=b"from stdin",
    )

    assert status == 0, err
    [event] = listener.events(1)
    assert event["data"] == "from stdin"


def test_trigger_through_proxy(
    soketi: SoketiServer,
    subscriber: Callable[..., Subscriber],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    channel = unique("proxy")
    listener = subscribed(subscriber, channel)
    proxy_password = "proxy-canary-pw"

    with run_tinyproxy(credentials=("cli-user", proxy_password)) as proxy:
        status, out, err = run_cli(
            capsys,
            monkeypatch,
            "--url",
            soketi.url,
            "--transport",
            "proxy",
            "--proxy",
            proxy.authorized_url,
            "trigger",
            "-c",
            channel,
            "-e",
            "e",
            "via proxy",
        )
        request_lines = proxy.request_lines()

    assert status == 0, err
    [event] = listener.events(1)
    assert event["data"] == "via proxy"
    assert any(f"/apps/{soketi.app_id}/events" in line for line in request_lines)
    assert proxy_password not in out + err


@pytest.mark.parametrize("mode", ["bulk", "ordered"])
def test_batch_received(
    soketi: SoketiServer,
    subscriber: Callable[..., Subscriber],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    mode: str,
) -> None:
    channels = [unique("batch-a"), unique("batch-b")]
    listener = subscribed(subscriber, *channels)
    lines = [
        json.dumps({"channel": channels[index % 2], "name": "item", "data": {"i": index}})
        for index in range(25)
    ]
    (tmp_path / "events.jsonl").write_text("\n".join(lines) + "\n")
    extra = ["--ordered"] if mode == "ordered" else []

    status, out, err = run_cli(
        capsys,
        monkeypatch,
        "--url",
        soketi.url,
        "batch",
        str(tmp_path / "events.jsonl"),
        "--progress-every",
        "10",
        *extra,
    )

    assert status == 0, err
    assert out == "sent 25 events\n"
    assert "pusher-channels: sent 10 of 25 events" in err
    events = listener.events(25)
    for channel in channels:
        received = [event["data"]["i"] for event in events if event["channel"] == channel]
        expected = [index for index in range(25) if channels[index % 2] == channel]
        # Each channel keeps its file order, in both modes.
        assert received == expected


def test_sign_accepted_by_curl(
    soketi: SoketiServer,
    subscriber: Callable[..., Subscriber],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    channel = unique("signed")
    listener = subscribed(subscriber, channel)
    body = json.dumps({"name": "signed", "channels": [channel], "data": '{"via": "curl"}'})
    (tmp_path / "body.json").write_text(body)

    status, out, err = run_cli(
        capsys,
        monkeypatch,
        "--url",
        soketi.url,
        "sign",
        "POST",
        f"/apps/{soketi.app_id}/events",
        "--body-file",
        str(tmp_path / "body.json"),
    )
    assert status == 0, err
    url = f"{soketi.base_url}/apps/{soketi.app_id}/events?{out.strip()}"

    completed = subprocess.run(
        [
            "curl",
            "-s",
            "--noproxy",
            "*",
            "-X",
            "POST",
            "--data-binary",
            f"@{tmp_path / 'body.json'}",
            url,
            "-H",
            "Content-Type: application/json",
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout) == {"ok": True}
    [event] = listener.events(1)
    assert event["data"] == {"via": "curl"}


def test_channel_queries(
    soketi: SoketiServer,
    subscriber: Callable[..., Subscriber],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    channel = unique("query")
    subscribed(subscriber, channel)

    listed = run_cli(
        capsys, monkeypatch, "--url", soketi.url, "--json", "channels", "--prefix", channel
    )
    channel_state = run_cli(
        capsys,
        monkeypatch,
        "--url",
        soketi.url,
        "--json",
        "channel",
        channel,
        "--info",
        "subscription_count",
    )

    assert listed[0] == 0, listed[2]
    assert channel in json.loads(listed[1])["channels"]
    assert channel_state[0] == 0, channel_state[2]
    assert json.loads(channel_state[1]) == {"occupied": True, "subscription_count": 1}


def test_rejected_secret_exit_status(
    soketi: SoketiServer, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    status, _, err = run_cli(
        capsys,
        monkeypatch,
        "--url",
        soketi.url,
        "--secret",
        "wrong-secret",
        "trigger",
        "-c",
        unique("rejected"),
        "-e",
        "e",
        "x",
    )

    assert status == 1
    assert err.startswith("pusher-channels: error: POST /apps/app-id/events failed with status")
    assert "wrong-secret" not in err


@pytest.fixture
def webhook_soketi(
    http_server: Callable[..., LoopbackHTTPServer],
) -> Iterator[tuple[SoketiServer, LoopbackHTTPServer]]:
    receiver = http_server()
    with run_soketi(webhook_url=receiver.url_for("/webhooks")) as server:
        yield server, receiver


def test_webhook_verify_from_soketi(
    webhook_soketi: tuple[SoketiServer, LoopbackHTTPServer],
    subscriber: Callable[..., Subscriber],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    server, receiver = webhook_soketi
    channel = unique("webhook")
    subscribed(subscriber, channel, server=server)
    [webhook] = receiver.wait_for_requests(
        1, timeout=30, match=lambda request: b"channel_occupied" in request.body
    )
    headers_path, body_path = tmp_path / "headers.txt", tmp_path / "body.json"
    headers_path.write_text("".join(f"{name}: {value}\n" for name, value in webhook.headers))
    body_path.write_bytes(webhook.body)

    status, out, err = run_cli(
        capsys,
        monkeypatch,
        "--url",
        server.url,
        "--json",
        "webhook",
        "verify",
        "--headers",
        str(headers_path),
        "--body",
        str(body_path),
        "--max-age",
        "300",
    )

    assert status == 0, err
    result = json.loads(out)
    assert result["valid"] is True
    assert {"name": "channel_occupied", "channel": channel} in result["events"]

    tampered = run_cli(
        capsys,
        monkeypatch,
        "--url",
        server.url,
        "--secret",
        "another-secret",
        "webhook",
        "verify",
        "--headers",
        str(headers_path),
        "--body",
        str(body_path),
    )
    assert tampered[0] == 1
    assert tampered[1] == "invalid: bad_signature\n"
