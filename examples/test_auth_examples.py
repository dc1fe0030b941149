"""Tests of the Flask, Starlette, FastAPI and Django examples through each framework's test client.

The expected auth values are computed here with `hmac`, independently of the SDK.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import types
from base64 import b64encode
from collections.abc import Callable, Iterator
from typing import Any

import django.test
import pytest
from starlette.testclient import TestClient

from examples import auth_django, auth_fastapi, auth_flask, auth_starlette
from pusher_core import ChannelOccupied, Config, WebhookEvent, sign_webhook

MASTER_KEY_BASE64 = b64encode(bytes(range(0x70, 0x90))).decode("ascii")
CONFIG = Config(
    app_id="1", key="app-key", secret="app-secret", encryption_master_key_base64=MASTER_KEY_BASE64
)
USER = {"id": "user-1", "user_info": {"name": "Zoë"}}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


# Posts a body with headers to a path and returns the status and the decoded JSON body.
Post = Callable[[str, bytes, dict[str, str]], tuple[int, Any]]


def signature(message: str) -> str:
    digest = hmac.new(b"app-secret", message.encode("utf-8"), hashlib.sha256).hexdigest()
    return f"app-key:{digest}"


def shared_secret(channel: str) -> str:
    # The channel key is the SHA-256 of the channel name followed by the master key bytes.
    digest = hashlib.sha256(channel.encode("utf-8") + bytes(range(0x70, 0x90))).digest()
    return b64encode(digest).decode("ascii")


class Recorder:
    def __init__(self) -> None:
        self.events: list[WebhookEvent] = []
        self.user: dict[str, Any] | None = USER

    def load_user(self, request: object) -> dict[str, Any] | None:
        return self.user


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


def _flask_post(recorder: Recorder) -> Iterator[Post]:
    flask_app = auth_flask.create_app(CONFIG, recorder.load_user, recorder.events.append)
    flask_client = flask_app.test_client()

    def post(path: str, body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
        response = flask_client.post(path, data=body, headers=headers)
        return response.status_code, response.json

    yield post


def _asgi_post(app: Any) -> Iterator[Post]:
    with TestClient(app) as client:

        def post(path: str, body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
            response = client.post(path, content=body, headers=headers)
            return response.status_code, response.json()

        yield post


def _django_post(recorder: Recorder) -> Iterator[Post]:
    # A module object, because Django caches URL resolvers by their (hashable) URL conf.
    urlconf = types.ModuleType("pusher_test_urls")
    urlconf.urlpatterns = auth_django.create_urlpatterns(  # type: ignore[attr-defined]
        CONFIG, recorder.load_user, recorder.events.append
    )
    client = django.test.Client()

    def post(path: str, body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
        other = {name: value for name, value in headers.items() if name != "Content-Type"}
        content_type = headers.get("Content-Type", "application/octet-stream")
        response = client.post(path, data=body, content_type=content_type, headers=other)
        return response.status_code, json.loads(response.content)

    with django.test.override_settings(ROOT_URLCONF=urlconf):
        yield post


@pytest.fixture(params=["flask", "starlette", "fastapi", "django"])
def post(request: pytest.FixtureRequest, recorder: Recorder) -> Iterator[Post]:
    if request.param == "flask":
        yield from _flask_post(recorder)
    elif request.param == "starlette":
        yield from _asgi_post(
            auth_starlette.create_app(CONFIG, recorder.load_user, recorder.events.append)
        )
    elif request.param == "fastapi":
        yield from _asgi_post(
            auth_fastapi.create_app(CONFIG, recorder.load_user, recorder.events.append)
        )
    else:
        yield from _django_post(recorder)


def test_private_channel_auth(post: Post) -> None:
    status, result = post("/pusher/auth", b"socket_id=1.2&channel_name=private-room", FORM)

    assert status == 200
    assert result == {"auth": signature("1.2:private-room")}


def test_presence_channel_auth(post: Post) -> None:
    status, result = post("/pusher/auth", b"socket_id=1.2&channel_name=presence-room", FORM)

    assert status == 200
    assert json.loads(result["channel_data"]) == {"user_id": "user-1", "user_info": {"name": "Zoë"}}
    assert result["auth"] == signature(f"1.2:presence-room:{result['channel_data']}")


def test_encrypted_channel_auth(post: Post) -> None:
    status, result = post(
        "/pusher/auth", b"socket_id=1.2&channel_name=private-encrypted-room", FORM
    )

    assert status == 200
    assert set(result) == {"auth", "shared_secret"}
    assert result["auth"] == signature("1.2:private-encrypted-room")
    assert result["shared_secret"] == shared_secret("private-encrypted-room")


@pytest.mark.parametrize(
    "body",
    [
        b"socket_id=1.2",
        b"socket_id=1.2&channel_name=public-room",
        b"socket_id=bad&channel_name=private-room",
        b"socket_id=1.2&socket_id=1.3&channel_name=private-room",
    ],
)
def test_bad_channel_auth_is_400(post: Post, body: bytes) -> None:
    status, result = post("/pusher/auth", body, FORM)

    assert status == 400
    assert "error" in result
    assert "app-secret" not in json.dumps(result)


def test_signed_out_user_is_403(post: Post, recorder: Recorder) -> None:
    recorder.user = None

    assert post("/pusher/auth", b"socket_id=1.2&channel_name=private-r", FORM)[0] == 403
    assert post("/pusher/user-auth", b"socket_id=1.2", FORM)[0] == 403


def test_user_auth(post: Post) -> None:
    status, result = post("/pusher/user-auth", b"socket_id=1.2", FORM)

    assert status == 200
    assert json.loads(result["user_data"]) == USER
    assert result["auth"] == signature(f"1.2::user::{result['user_data']}")


def test_valid_webhook_reaches_handler(post: Post, recorder: Recorder) -> None:
    events = [{"name": "channel_occupied", "channel": "private-room"}]
    headers, body = sign_webhook(CONFIG, events, time_ms=_now_ms())

    status, _ = post("/pusher/webhook", body, headers)

    assert status == 200
    assert [type(event) for event in recorder.events] == [ChannelOccupied]


def test_tampered_webhook_is_401(post: Post, recorder: Recorder) -> None:
    headers, body = sign_webhook(CONFIG, [{"name": "channel_vacated", "channel": "c"}], _now_ms())

    status, _ = post("/pusher/webhook", body.replace(b"vacated", b"occupied"), headers)

    assert status == 401
    assert recorder.events == []


def test_stale_webhook_is_401(post: Post) -> None:
    headers, body = sign_webhook(CONFIG, [{"name": "channel_vacated", "channel": "c"}], 0)

    assert post("/pusher/webhook", body, headers)[0] == 401


def _now_ms() -> int:
    return int(time.time() * 1000)
