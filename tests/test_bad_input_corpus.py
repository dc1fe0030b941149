"""Every case in corpus/bad_inputs.json is rejected before any I/O.

A case names an entry point (``call``), its input and the error it must raise:

- ``call``: ``Config``, ``Config.for_cluster``, ``Config.for_url``, ``Config.from_env``,
  ``Webhook``, ``sign_webhook``, ``parse_form``, ``cli``, or the name of a client method.
  A client method runs on `Client` and on `AsyncClient`, each on a transport that
  records what it is asked to send.
- ``args`` and ``kwargs``: the input. ``Config`` cases give only the keywords that
  differ from a valid configuration. ``config`` gives keywords added to the client's
  configuration. ``cli`` cases give ``argv``, and optionally ``env`` and ``stdin``.
- ``error``: the exception class name, or ``exit 2`` for the command line.
- ``field``: for a `ValidationError`, its ``field``; for a `WebhookError`, its
  ``reason``. The message must contain it in every case, so the caller can see which
  input is at fault.

JSON has no bytes, tuples, sets, NaN or iterators, so a one-key object whose key starts
with ``$`` encodes such a value. `TAGS` lists the tags. The test checks the error type,
the field, that nothing was sent, and that every argument is unchanged afterwards.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import io
import json
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

import pusher_core.errors
from pusher_core import Config, PusherError, Request, Response, Webhook, WebhookError
from pusher_core.forms import parse_form
from pusher_core.webhooks import sign_webhook
from pusher_transports import AsyncClient, Client
from pusher_transports.cli import _remote, main

CORPUS_PATH = Path(__file__).parent / "corpus" / "bad_inputs.json"
CASES: list[dict[str, Any]] = json.loads(CORPUS_PATH.read_text(encoding="utf-8"))["cases"]
SECRET = "corpus-secret"
BASE_CONFIG = {"app_id": "1", "key": "key", "secret": SECRET}
CLI_URL = "http://key:corpus-secret@127.0.0.1:9/apps/1"
MINIMUM_CASES = 150


class RecordingTransport:
    """A blocking transport that records each request and returns 200 ``{}``."""

    def __init__(self) -> None:
        self.sent: list[Request] = []

    def send(self, request: Request) -> Response:
        self.sent.append(request)
        return Response(200, (("Content-Type", "application/json"),), b"{}")

    def close(self) -> None:
        pass


class AsyncRecordingTransport(RecordingTransport):
    """The asyncio twin of `RecordingTransport`."""

    async def send(self, request: Request) -> Response:  # type: ignore[override]
        return RecordingTransport.send(self, request)

    async def close(self) -> None:  # type: ignore[override]
        pass


# Tagged values


def _signature(argument: list[str]) -> str:
    transform, body = argument
    secret = "other-secret" if transform == "other-secret" else SECRET
    digest = hmac.new(secret.encode(), body.encode(), hashlib.sha256).hexdigest()
    changed = {"upper": digest.upper(), "newline": digest + "\n", "truncated": digest[:-1]}
    return changed.get(transform, digest)


def _callable(value: Any) -> Callable[..., Any]:
    def provider(*args: Any) -> Any:
        return decode(value)

    return provider


TAGS: dict[str, Callable[[Any], Any]] = {
    "$utf8": lambda text: text.encode("utf-8"),
    "$hex": bytes.fromhex,
    "$tuple": lambda items: tuple(decode(items)),
    "$set": lambda items: set(decode(items)),
    "$iter": lambda items: iter(decode(items)),
    "$float": float,
    "$object": lambda _: object(),
    "$dict": lambda pairs: {decode(key): decode(value) for key, value in pairs},
    "$times": lambda argument: argument[0] * argument[1],
    "$repeat": lambda argument: [decode(argument[0]) for _ in range(argument[1])],
    "$numbered": lambda argument: [argument[0].format(i) for i in range(argument[1])],
    "$signature": _signature,
    "$config": lambda _: Config(**BASE_CONFIG),
    "$callable": _callable,
    "$form_fields": lambda count: "&".join(f"field{i}=1" for i in range(count)),
    "$cli_channels": lambda count: [arg for i in range(count) for arg in ("-c", f"room-{i}")],
}


def decode(value: Any) -> Any:
    """Build the Python value that a corpus value encodes, as new objects on every call."""
    if isinstance(value, list):
        return [decode(item) for item in value]
    if isinstance(value, dict):
        if len(value) == 1 and next(iter(value)).startswith("$"):
            [(tag, argument)] = value.items()
            return TAGS[tag](argument)
        return {key: decode(item) for key, item in value.items()}
    return value


def snapshot(value: Any) -> Any:
    """Return a comparable copy of a value, to tell whether a call changed it."""
    if isinstance(value, dict):
        return ("dict", [(snapshot(key), snapshot(item)) for key, item in value.items()])
    if isinstance(value, (list, tuple)):
        return (type(value).__name__, [snapshot(item) for item in value])
    if isinstance(value, set):
        return ("set", sorted(map(repr, value)))
    if isinstance(value, float) and value != value:
        return ("float", "nan")
    if isinstance(value, Iterator):
        # A one-shot iterator is consumed by any reader, which is not a change.
        return ("iterator",)
    if isinstance(value, (str, bytes, int, float, type(None), Config)):
        return value
    return (type(value).__name__,)


# Running a case


def client_config(case: dict[str, Any]) -> Config:
    return Config(**BASE_CONFIG, **decode(case.get("config", {})))


def call_core(case: dict[str, Any], args: list[Any], kwargs: dict[str, Any]) -> Any:
    """Call a configuration or core entry point and return its result."""
    call = case["call"]
    if call == "Config":
        return Config(**{**BASE_CONFIG, **kwargs})
    if call == "Config.for_cluster":
        return Config.for_cluster(*args, **{**BASE_CONFIG, **kwargs})
    if call == "Config.for_url":
        return Config.for_url(*args, **kwargs)
    if call == "Config.from_env":
        return Config.from_env(*args, **kwargs)
    if call == "Webhook":
        return Webhook(client_config(case), *args, **kwargs)
    if call == "sign_webhook":
        return sign_webhook(*args, **kwargs)
    if call == "parse_form":
        return parse_form(*args, **kwargs)
    raise AssertionError(f"unknown call {call!r}")


CORE_CALLS = {
    "Config",
    "Config.for_cluster",
    "Config.for_url",
    "Config.from_env",
    "Webhook",
    "sign_webhook",
    "parse_form",
}


def check_error(case: dict[str, Any], error: BaseException) -> None:
    assert type(error).__name__ == case["error"], f"{type(error).__name__}: {error}"
    assert case["field"] in str(error)
    if isinstance(error, pusher_core.errors.ValidationError):
        assert error.field == case["field"]
    if isinstance(error, WebhookError):
        assert error.reason == case["field"]
    assert SECRET not in str(error)


def check_result(case: dict[str, Any], result: Any) -> None:
    """Check a call that returned: only an invalid `Webhook` may return."""
    assert isinstance(result, Webhook), f"accepted: {result!r}"
    assert not result.is_valid()
    with pytest.raises(WebhookError) as raised:
        result.events  # noqa: B018 - reading it must raise
    check_error(case, raised.value)


def run_and_check(case: dict[str, Any], call: Callable[[list[Any], dict[str, Any]], Any]) -> None:
    """Run a call on freshly decoded input, check its error, and check the input is unchanged."""
    args = decode(case.get("args", []))
    kwargs = decode(case.get("kwargs", {}))
    try:
        result = call(args, kwargs)
    except PusherError as error:
        check_error(case, error)
    else:
        check_result(case, result)
    assert snapshot(args) == snapshot(decode(case.get("args", [])))
    assert snapshot(kwargs) == snapshot(decode(case.get("kwargs", {})))


def cases_for(calls: Callable[[str], bool]) -> list[Any]:
    return [pytest.param(case, id=case["id"]) for case in CASES if calls(case["call"])]


def is_client_call(call: str) -> bool:
    return call not in CORE_CALLS and call != "cli"


# Tests


def test_corpus_is_large_and_well_formed() -> None:
    ids = [case["id"] for case in CASES]
    assert len(CASES) >= MINIMUM_CASES
    assert len(ids) == len(set(ids))
    for case in CASES:
        assert {"id", "call", "error", "field"} <= case.keys(), case["id"]


@pytest.mark.parametrize("case", cases_for(lambda call: call in CORE_CALLS))
def test_core_entry_point_rejects(case: dict[str, Any]) -> None:
    run_and_check(case, lambda args, kwargs: call_core(case, args, kwargs))


@pytest.mark.parametrize("case", cases_for(is_client_call))
def test_sync_client_rejects_before_sending(case: dict[str, Any]) -> None:
    transport = RecordingTransport()
    client = Client(client_config(case), transport)

    run_and_check(case, lambda args, kwargs: getattr(client, case["call"])(*args, **kwargs))

    assert transport.sent == []


@pytest.mark.parametrize("case", cases_for(is_client_call))
def test_async_client_rejects_before_sending(case: dict[str, Any]) -> None:
    transport = AsyncRecordingTransport()
    client = AsyncClient(client_config(case), transport)

    def call(args: list[Any], kwargs: dict[str, Any]) -> Any:
        result = getattr(client, case["call"])(*args, **kwargs)
        if asyncio.iscoroutine(result):
            return asyncio.run(result)
        return result

    run_and_check(case, call)

    assert transport.sent == []


@pytest.mark.parametrize("case", cases_for(lambda call: call == "cli"))
def test_cli_rejects_with_status_2(
    case: dict[str, Any], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    transport = RecordingTransport()
    monkeypatch.setattr(_remote, "open_transport", lambda args: transport)
    monkeypatch.delenv("PUSHER_ENCRYPTION_MASTER_KEY", raising=False)
    monkeypatch.setenv("PUSHER_URL", CLI_URL)
    for name, value in case.get("env", {}).items():
        monkeypatch.setenv(name, value)
    stdin = io.BytesIO(case.get("stdin", "").encode())
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(stdin, encoding="utf-8"))
    argv = []
    for item in decode(case["argv"]):
        argv += item if isinstance(item, list) else [item]

    status = main(argv)

    output = capsys.readouterr()
    [line] = output.err.splitlines()
    assert status == 2
    assert line.startswith("pusher-channels: error: ")
    assert case["field"] in line
    assert SECRET not in output.err + output.out
    assert transport.sent == []


def test_recording_transport_sees_a_valid_publish() -> None:
    # The harness itself can see a send, so an empty record above means nothing was sent.
    transport = RecordingTransport()
    client = Client(Config(**BASE_CONFIG), transport)

    client.trigger("room", "event", "data")

    assert [request.path for request in transport.sent] == ["/apps/1/events"]


def test_exact_signature_tag_gives_a_valid_webhook() -> None:
    body = '{"time_ms":1,"events":[]}'
    headers = {
        "Content-Type": "application/json",
        "X-Pusher-Key": "key",
        "X-Pusher-Signature": decode({"$signature": ["exact", body]}),
    }

    assert Webhook(Config(**BASE_CONFIG), headers, body).is_valid()


@pytest.mark.parametrize(
    "build",
    [
        lambda: Config(**BASE_CONFIG, host="[::1]"),
        lambda: Config(**BASE_CONFIG, host="api.example.test."),
        lambda: Config(**BASE_CONFIG, timeout=86400),
        lambda: Config(**BASE_CONFIG, base_path="/ws/..v1/.well-known"),
        lambda: Client(Config(**BASE_CONFIG), RecordingTransport()).trigger(
            "presence-", "pusher:member é", "x"
        ),
        lambda: Config.for_url("http://key:secret@[::1]:6001/apps/1", timeout=5),
        lambda: Config.from_env(environ={"PUSHER_URL": "http://key:secret@host/apps/1"}),
        lambda: Client(Config(**BASE_CONFIG), RecordingTransport()).list_channels("presence-"),
        lambda: Client(Config(**BASE_CONFIG), RecordingTransport()).get("/channels/a%40b"),
        lambda: Client(Config(**BASE_CONFIG), RecordingTransport()).get("/users/1;v=2/x:y@z"),
        lambda: Client(Config(**BASE_CONFIG), RecordingTransport()).post("/events", "é"),
        lambda: Client(Config(**BASE_CONFIG), RecordingTransport()).get("/c", {"q": "a b&c"}),
        lambda: Client(Config(**BASE_CONFIG), RecordingTransport()).create_signed_query_string(
            "post", "/apps/1/events", bytearray(b"{}")
        ),
    ],
)
def test_edge_of_each_rule_is_accepted(build: Callable[[], Any]) -> None:
    # The rules the corpus exercises must not reject the valid inputs next to them.
    assert build() is not None
