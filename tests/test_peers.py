"""Smoke tests for the peer infrastructure itself: soketi, pusher-js subscribers,
the npm pusher library runner and the loopback HTTP server.

Auth responses here are signed with a few lines of hmac so that these tests
depend only on the peers, not on the SDK under test.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import socket
import subprocess
from typing import Any

import pytest

from tests.support.peers import (
    PEERS_DIR,
    REPO_ROOT,
    LoopbackHTTPServer,
    PeerError,
    PeerTimeoutError,
    RecordedRequest,
    SoketiServer,
    Subscriber,
    free_port,
    node_executable,
    npm_rest,
    npm_trigger,
    reply_json,
    run_soketi,
    subscriber_config,
)

pytestmark = pytest.mark.e2e

# 32 bytes, several above 0x7f, so that a text-based key handling bug shows.
MASTER_KEY = bytes(range(0x70, 0x90))
MASTER_KEY_BASE64 = base64.b64encode(MASTER_KEY).decode("ascii")


def sign(secret: str, message: str) -> str:
    """Return the hex HMAC-SHA256 of ``message`` under ``secret``."""
    return hmac.new(secret.encode("utf-8"), message.encode("utf-8"), hashlib.sha256).hexdigest()


def channel_auth_handler(server: SoketiServer, user: dict[str, Any] | None = None):
    """Build an auth endpoint handler that authorizes every channel for ``server``'s app."""

    def handle(method: str, path: str, headers: list[tuple[str, str]], body: bytes):
        form = RecordedRequest(method, path, headers, body).form()
        socket_id, channel = form["socket_id"], form["channel_name"]
        to_sign = f"{socket_id}:{channel}"
        response: dict[str, Any] = {}
        if channel.startswith("presence-"):
            response["channel_data"] = json.dumps(user)
            to_sign += ":" + response["channel_data"]
        if channel.startswith("private-encrypted-"):
            shared_secret = hashlib.sha256(channel.encode("utf-8") + MASTER_KEY).digest()
            response["shared_secret"] = base64.b64encode(shared_secret).decode("ascii")
        response["auth"] = f"{server.key}:{sign(server.secret, to_sign)}"
        return reply_json(200, response)

    return handle


def user_auth_handler(server: SoketiServer, user: dict[str, Any]):
    """Build a user authentication endpoint handler that signs in every socket as ``user``."""

    def handle(method: str, path: str, headers: list[tuple[str, str]], body: bytes):
        socket_id = RecordedRequest(method, path, headers, body).form()["socket_id"]
        user_data = json.dumps(user)
        signature = sign(server.secret, f"{socket_id}::user::{user_data}")
        return reply_json(200, {"auth": f"{server.key}:{signature}", "user_data": user_data})

    return handle


def http_get(port: int, path: str) -> tuple[int, str]:
    """Return the status and body of a plain GET to 127.0.0.1."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, response.read().decode("utf-8")
    finally:
        connection.close()


def test_soketi_root_returns_ok(soketi):
    status, body = http_get(soketi.port, "/")

    assert status == 200
    assert body == "OK"
    assert soketi.url == f"http://app-key:app-secret@127.0.0.1:{soketi.port}/apps/app-id"


def test_soketi_rejects_bad_signature_with_status_200(soketi):
    query = "auth_key=app-key&auth_timestamp=1&auth_version=1.0&auth_signature=bad"
    status, body = http_get(soketi.port, f"/apps/app-id/channels?{query}")

    # soketi 1.6.1 writes its CORS headers before the auth check, which makes
    # uWebSockets.js send status 200, so the 401 in writeStatus is lost.
    assert status == 200
    assert json.loads(body) == {"error": "The secret authentication failed", "code": 401}


def test_run_soketi_stops_process():
    with run_soketi(key="other-key", secret="other-secret") as server:
        port = server.port
        assert http_get(port, "/") == (200, "OK")
        assert server.exit_code is None

    # soketi exits by itself on SIGTERM, with status 0.
    assert server.exit_code == 0
    with pytest.raises(ConnectionRefusedError):
        http_get(port, "/")


def test_run_soketi_rejects_numeric_key():
    with pytest.raises(ValueError, match="valid JSON"):
        SoketiServer(key="12345")


def test_free_port_is_bindable():
    port = free_port()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", port))

    assert 0 < port < 65536


def test_subscriber_connects_and_subscribes(subscriber):
    client = subscriber(["public-smoke"])
    client.wait_subscribed(["public-smoke"])

    socket_id = client.socket_id
    first, second = socket_id.split(".")
    assert first.isdigit()
    assert second.isdigit()
    assert {"type": "state", "previous": "connecting", "current": "connected"} in client.records
    assert {"type": "subscribed", "channel": "public-smoke"} in client.records


def test_npm_trigger_reaches_subscriber(soketi, subscriber):
    client = subscriber(["public-npm"])
    client.wait_subscribed(["public-npm"])
    data = {"text": "héllo wörld 🎉", "items": [1, 2.5, None, True], "nested": {"quote": '"&<>'}}

    result = npm_trigger(soketi, "public-npm", "smoke-event", data)

    assert result == {"status": 200, "body": '{"ok":true}'}
    [event] = client.events(1)
    assert event == {"type": "event", "channel": "public-npm", "event": "smoke-event", "data": data}


def test_npm_trigger_string_data(soketi, subscriber):
    client = subscriber(["public-text"])
    client.wait_subscribed(["public-text"])

    npm_trigger(soketi, "public-text", "text-event", "plain text, not JSON")
    npm_trigger(soketi, "public-text", "json-text-event", '{"a": 1}')

    first, second = client.events(2)
    assert first["data"] == "plain text, not JSON"
    # pusher-js parses any string data that is valid JSON.
    assert second["data"] == {"a": 1}


def test_npm_trigger_excludes_socket_id(soketi, subscriber):
    excluded = subscriber(["public-exclude"])
    included = subscriber(["public-exclude"])
    excluded.wait_subscribed(["public-exclude"])
    included.wait_subscribed(["public-exclude"])

    npm_trigger(
        soketi, "public-exclude", "only-one", {"n": 1}, params={"socket_id": excluded.socket_id}
    )

    assert included.events(1)[0]["data"] == {"n": 1}
    assert [r for r in excluded.collect(0.5) if r["type"] == "event"] == []


def test_npm_rest_reports_soketi_rejection(soketi):
    wrong_secret = SoketiServer(key=soketi.key, secret="wrong-secret")
    wrong_secret.port = soketi.port

    with pytest.raises(PeerError, match="The secret authentication failed"):
        npm_trigger(wrong_secret, "public-x", "e", {})
    result = npm_rest(wrong_secret, "trigger", check=False, channels="public-x", event="e", data={})
    assert result["status"] == 200
    assert json.loads(result["body"]) == {"error": "The secret authentication failed", "code": 401}


def test_private_channel_uses_auth_endpoint(soketi, subscriber, http_server):
    endpoint = http_server(channel_auth_handler(soketi))
    client = subscriber(["private-smoke"], channel_auth_endpoint=endpoint.url_for("/auth"))
    client.wait_subscribed(["private-smoke"])

    [request] = endpoint.wait_for_requests(1)
    assert request.method == "POST"
    assert request.route == "/auth"
    assert request.header("Content-Type") == "application/x-www-form-urlencoded"
    assert request.form() == {"socket_id": client.socket_id, "channel_name": "private-smoke"}

    npm_trigger(soketi, "private-smoke", "secret-event", {"ok": True})
    assert client.events(1)[0]["data"] == {"ok": True}


def test_private_channel_reports_auth_failure(soketi, subscriber, http_server):
    endpoint = http_server(lambda method, path, headers, body: reply_json(403, {"error": "no"}))
    client = subscriber(["private-denied"], channel_auth_endpoint=endpoint.url_for("/auth"))

    record = client.wait_for("subscription_error")

    assert record["channel"] == "private-denied"
    assert record["error"]["type"] == "AuthError"
    assert record["error"]["status"] == 403
    with pytest.raises(PeerError, match="subscription to 'private-denied' failed"):
        client.wait_subscribed(["private-denied"])


def test_presence_channel_reports_members(soketi, subscriber, http_server):
    user = {"user_id": "user-1", "user_info": {"name": "Zoë"}}
    endpoint = http_server(channel_auth_handler(soketi, user))
    client = subscriber(["presence-smoke"], channel_auth_endpoint=endpoint.url_for("/auth"))
    client.wait_subscribed(["presence-smoke"])

    members = client.wait_for("members")

    assert members == {
        "type": "members",
        "channel": "presence-smoke",
        "count": 1,
        "me": {"id": "user-1", "info": {"name": "Zoë"}},
    }


def test_encrypted_channel_decrypts_npm_event(soketi, subscriber, http_server):
    endpoint = http_server(channel_auth_handler(soketi))
    channel = "private-encrypted-smoke"
    client = subscriber([channel], channel_auth_endpoint=endpoint.url_for("/auth"))
    client.wait_subscribed([channel])
    data = {"secret": "tëxt 🎉"}

    npm_rest(
        soketi,
        "trigger",
        channels=channel,
        event="sealed",
        data=data,
        encryption_master_key_base64=MASTER_KEY_BASE64,
    )

    assert client.events(1)[0] == {
        "type": "event",
        "channel": channel,
        "event": "sealed",
        "data": data,
    }


def test_signin_receives_user_events(soketi, subscriber, http_server):
    endpoint = http_server(user_auth_handler(soketi, {"id": "user-7", "name": "Ana"}))
    client = subscriber([], user_auth_endpoint=endpoint.url_for("/user-auth"), signin=True)

    signed_in = client.wait_for("signed_in")
    [request] = endpoint.wait_for_requests(1)
    assert request.form() == {"socket_id": client.socket_id}
    assert json.loads(signed_in["user_data"]) == {"id": "user-7", "name": "Ana"}

    # pusher-js sets up the user's channel while it handles signin_success, and
    # soketi sends to a signed-in user's sockets without any subscription, so
    # the event can go out right away.
    npm_rest(soketi, "send_to_user", user_id="user-7", event="direct", data={"n": 7})

    record = client.wait_for("user_event")
    assert record == {"type": "user_event", "event": "direct", "data": {"n": 7}}


def test_terminate_user_connections_disconnects(soketi, subscriber, http_server):
    endpoint = http_server(user_auth_handler(soketi, {"id": "user-8"}))
    client = subscriber([], user_auth_endpoint=endpoint.url_for("/user-auth"), signin=True)
    client.wait_for("signed_in")

    npm_rest(soketi, "terminate_user_connections", user_id="user-8")

    error = client.wait_for("error")
    state = client.wait_for(lambda r: r["type"] == "state" and r["previous"] == "connected")
    assert error["error"] == {
        "type": "PusherError",
        "data": {"code": 4009, "message": "You got disconnected by the app."},
    }
    # pusher-js 8.6.0 does not reconnect after close codes 4001 to 4099.
    assert state["current"] == "disconnected"


def test_client_event_reaches_webhook(http_server):
    receiver = http_server()
    server = SoketiServer(webhook_url=receiver.url_for("/hook"))
    endpoint = http_server(channel_auth_handler(server))
    client_event = {"channel": "private-webhook", "event": "client-ping", "data": {"n": 1}}

    with server:
        config = subscriber_config(
            server,
            ["private-webhook"],
            channel_auth_endpoint=endpoint.url_for("/auth"),
            client_events=[client_event],
        )
        with Subscriber(config) as client:
            sent = client.wait_for("client_event_sent")
            socket_id = client.socket_id
            hooks = receiver.wait_for_requests(1, match=lambda r: b"client_event" in r.body)

    assert sent["sent"] is True
    [hook] = hooks
    assert hook.method == "POST"
    assert hook.route == "/hook"
    assert hook.header("X-Pusher-Key") == "app-key"
    assert hook.header("X-Pusher-Signature") == sign("app-secret", hook.body.decode("utf-8"))
    [event] = [e for e in hook.json()["events"] if e["name"] == "client_event"]
    assert event["channel"] == "private-webhook"
    assert event["event"] == "client-ping"
    # soketi 1.6.1 puts the client event data into the webhook as a JSON
    # value, not as a JSON-encoded string.
    # NOTE: not compared with Pusher's hosted service, which may send a string.
    assert event["data"] == {"n": 1}
    assert event["socket_id"] == socket_id


def test_http_server_records_request_and_reports_handler_error():
    def fail(method, path, headers, body):
        raise RuntimeError("handler broke")

    server = LoopbackHTTPServer(fail)
    server.start()
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    connection.request("POST", "/x?a=%20b", body=b"raw \xff", headers={"X-Test": "1"})
    response = connection.getresponse()
    response.read()
    connection.close()
    [request] = server.requests

    with pytest.raises(PeerError, match="handler broke"):
        server.close()
    assert response.status == 500
    assert request.method == "POST"
    assert request.path == "/x?a=%20b"
    assert request.route == "/x"
    assert request.body == b"raw \xff"
    assert request.header("x-test") == "1"


def test_signin_ignored_without_user_authentication(http_server):
    server = SoketiServer(user_authentication=False)
    endpoint = http_server(user_auth_handler(server, {"id": "user-9"}))

    with server:
        config = subscriber_config(
            server, ["public-signin"], user_auth_endpoint=endpoint.url_for("/u"), signin=True
        )
        with Subscriber(config) as client:
            client.wait_subscribed(["public-signin"])
            endpoint.wait_for_requests(1)
            records = client.collect(0.5)

    assert [r for r in records if r["type"] in ("signed_in", "signin_error")] == []


def test_wait_for_timeout_lists_records(subscriber):
    client = subscriber(["public-timeout"])
    client.wait_subscribed(["public-timeout"])

    with pytest.raises(PeerTimeoutError, match="public-timeout"):
        client.events(1, timeout=0.3)


VECTORS_PATH = REPO_ROOT / "tests" / "vectors" / "npm_pusher_5.3.4.json"


def test_vectors_file_is_current():
    completed = subprocess.run(
        [node_executable(), str(PEERS_DIR / "make_vectors.js"), "--check"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr
    assert "is up to date" in completed.stdout


def test_vectors_signatures_verify_in_python():
    vectors = json.loads(VECTORS_PATH.read_text(encoding="utf-8"))
    secret = vectors["credentials"]["secret"]

    for case in vectors["signed_query_strings"]:
        assert sign(secret, case["string_to_sign"]) == case["auth_signature"], case["name"]
        assert case["output"].endswith("&auth_signature=" + case["auth_signature"]), case["name"]
        if case["input"]["body"] is not None:
            body_md5 = hashlib.md5(case["input"]["body"].encode("utf-8")).hexdigest()
            assert case["body_md5"] == body_md5, case["name"]
    for case in vectors["channel_authorizations"] + vectors["user_authentications"]:
        key, signature = case["output"]["auth"].split(":")
        assert key == vectors["credentials"]["key"], case["name"]
        assert sign(secret, case["string_to_sign"]) == signature, case["name"]


def test_vectors_cover_every_kind():
    vectors = json.loads(VECTORS_PATH.read_text(encoding="utf-8"))

    assert vectors["library"] == {"name": "pusher", "version": "5.3.4"}
    docs_case = next(
        c for c in vectors["signed_query_strings"] if c["name"] == "post_with_body_docs_example"
    )
    assert (
        docs_case["auth_signature"]
        == "da454824c97ba181a32ccc17a72625ba02771f50b50e1e7430e47a1f3f457e6c"
    )
    assert {c["name"] for c in vectors["http_requests"]} >= {
        "trigger_one_channel",
        "trigger_several_channels",
        "trigger_with_socket_id",
        "trigger_with_info",
        "trigger_batch",
        "send_to_user",
        "terminate_user_connections",
        "get_channels_with_filter_and_info",
    }
    validity = {c["name"]: c["is_valid"] for c in vectors["webhooks"]}
    assert validity["valid_json_content_type"] is True
    assert validity["json_content_type_with_charset"] is False
    [encrypted, *_] = vectors["encrypted_triggers"]
    assert json.loads(encrypted["data"])["nonce"] == vectors["fixed_nonce_base64"]
    assert json.loads(json.loads(encrypted["request"]["body"])["data"]) == json.loads(
        encrypted["data"]
    )
