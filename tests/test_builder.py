"""Tests for the request builders: bodies, paths, params, validation and immutability."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
from collections.abc import Iterator
from decimal import Decimal
from urllib.parse import parse_qsl

import pytest

from pusher_core import Config, Request, RequestBuilder, ValidationError
from pusher_core.signing import string_to_sign

SECRET = "7ad3773142a6692b25b8"
NOW = 1700000000.9


@pytest.fixture
def builder() -> RequestBuilder:
    config = Config(app_id="app-id", key="278d425bdf160c739803", secret=SECRET)
    return RequestBuilder(config, clock=lambda: NOW)


def query_of(request: Request) -> dict[str, str]:
    return dict(request.query)


def assert_signed(request: Request) -> None:
    """Check the signature independently: HMAC over METHOD, path and sorted params."""
    params = {key: value for key, value in request.query if key != "auth_signature"}
    message = string_to_sign(request.method, request.path, params)
    expected = hmac.new(SECRET.encode(), message.encode(), hashlib.sha256).hexdigest()
    assert query_of(request)["auth_signature"] == expected


def test_trigger_single_channel(builder: RequestBuilder) -> None:
    request = builder.trigger("my-channel", "my-event", {"message": "hello"})
    assert request.method == "POST"
    assert request.path == "/apps/app-id/events"
    assert json.loads(request.body) == {
        "name": "my-event",
        "channels": ["my-channel"],
        "data": '{"message":"hello"}',
    }
    assert_signed(request)


def test_trigger_signs_floored_timestamp_and_md5(builder: RequestBuilder) -> None:
    request = builder.trigger("c", "e", "x")
    query = query_of(request)
    assert query["auth_timestamp"] == "1700000000"
    assert query["auth_version"] == "1.0"
    assert query["auth_key"] == "278d425bdf160c739803"
    assert query["body_md5"] == hashlib.md5(request.body).hexdigest()
    assert list(query)[-1] == "auth_signature"


def test_headers(builder: RequestBuilder) -> None:
    post = builder.trigger("c", "e", "x")
    get = builder.list_channels()
    assert post.header("content-type") == "application/json"
    assert (
        post.header(
            "X-Pusher-Library",
        )
        is not None
    )
    assert post.header("x-pusher-library").startswith("pusher-channels-python ")  # type: ignore[union-attr]
    assert get.header("Content-Type") is None
    assert get.header("X-Pusher-Library") == post.header("X-Pusher-Library")


def test_trigger_multiple_channels_keeps_order(builder: RequestBuilder) -> None:
    request = builder.trigger(["b", "a", "c"], "e", "x")
    assert json.loads(request.body)["channels"] == ["b", "a", "c"]


def test_trigger_accepts_any_iterable(builder: RequestBuilder) -> None:
    def names() -> Iterator[str]:
        yield "one"
        yield "two"

    assert json.loads(builder.trigger(names(), "e", "x").body)["channels"] == ["one", "two"]


def test_trigger_socket_id_and_info(builder: RequestBuilder) -> None:
    request = builder.trigger(
        "c", "e", "x", socket_id="123.456", info=["user_count", "subscription_count"]
    )
    body = json.loads(request.body)
    assert body["socket_id"] == "123.456"
    assert body["info"] == "user_count,subscription_count"


def test_string_data_sent_verbatim(builder: RequestBuilder) -> None:
    assert json.loads(builder.trigger("c", "e", '{"pre":"encoded"}').body)["data"] == (
        '{"pre":"encoded"}'
    )


def test_bytes_data_decoded(builder: RequestBuilder) -> None:
    assert json.loads(builder.trigger("c", "e", "é".encode()).body)["data"] == "é"


def test_unicode_data_kept_as_utf8(builder: RequestBuilder) -> None:
    request = builder.trigger("c", "e", {"text": "héllo 👋"})
    assert '{"text":"héllo 👋"}'.encode() in request.body.replace(b'\\"', b'"')
    assert b"\\u" not in request.body


def test_custom_json_encoder() -> None:
    class DecimalEncoder(json.JSONEncoder):
        def default(self, o: object) -> object:
            if isinstance(o, Decimal):
                return str(o)
            return super().default(o)

    config = Config(app_id="1", key="k", secret="s", json_encoder=DecimalEncoder)
    request = RequestBuilder(config).trigger("c", "e", {"price": Decimal("1.50")})
    assert json.loads(request.body)["data"] == '{"price":"1.50"}'


def test_unencodable_data_names_field(builder: RequestBuilder) -> None:
    with pytest.raises(ValidationError) as caught:
        builder.trigger("c", "e", {"when": object()})
    assert caught.value.field == "data"


def test_nan_rejected(builder: RequestBuilder) -> None:
    with pytest.raises(ValidationError, match="data"):
        builder.trigger("c", "e", {"x": float("nan")})


def test_payload_limit_exact_and_over(builder: RequestBuilder) -> None:
    builder.trigger("c", "e", "é" * 5120)
    with pytest.raises(ValidationError, match="10241 bytes"):
        builder.trigger("c", "e", "é" * 5120 + "x")


def test_payload_limit_configurable() -> None:
    raised = RequestBuilder(Config(app_id="1", key="k", secret="s", payload_limit=20000))
    raised.trigger("c", "e", "x" * 20000)
    unlimited = RequestBuilder(Config(app_id="1", key="k", secret="s", payload_limit=None))
    unlimited.trigger("c", "e", "x" * 200000)


def test_batch(builder: RequestBuilder) -> None:
    events = [
        {"channel": "a", "name": "e1", "data": {"n": 1}},
        {"channel": "b", "name": "e2", "data": "raw", "socket_id": "1.2", "info": "user_count"},
    ]
    request = builder.trigger_batch(events)
    assert request.path == "/apps/app-id/batch_events"
    assert json.loads(request.body) == {
        "batch": [
            {"channel": "a", "name": "e1", "data": '{"n":1}'},
            {
                "channel": "b",
                "name": "e2",
                "data": "raw",
                "socket_id": "1.2",
                "info": "user_count",
            },
        ]
    }
    assert_signed(request)


def test_batch_does_not_mutate_events(builder: RequestBuilder) -> None:
    events = [{"channel": "a", "name": "e", "data": {"nested": [1, 2]}}]
    snapshot = copy.deepcopy(events)
    first = builder.trigger_batch(events)
    second = builder.trigger_batch(events)
    assert events == snapshot
    assert first == second


def test_same_inputs_same_request(builder: RequestBuilder) -> None:
    assert builder.trigger("c", "e", {"a": 1}) == builder.trigger("c", "e", {"a": 1})


def test_send_to_user(builder: RequestBuilder) -> None:
    request = builder.send_to_user("user-1", "e", {"a": 1})
    assert request.path == "/apps/app-id/events"
    assert json.loads(request.body)["channels"] == ["#server-to-user-user-1"]


def test_terminate_escapes_user_id(builder: RequestBuilder) -> None:
    request = builder.terminate_user_connections("user 1/é")
    assert request.path == "/apps/app-id/users/user%201%2F%C3%A9/terminate_connections"
    assert_signed(request)


def test_list_channels_params(builder: RequestBuilder) -> None:
    request = builder.list_channels(filter_by_prefix="presence-", info=["user_count"])
    assert request.method == "GET"
    assert request.body == b""
    assert "body_md5" not in query_of(request)
    assert query_of(request)["filter_by_prefix"] == "presence-"
    assert query_of(request)["info"] == "user_count"
    assert_signed(request)


def test_get_channel_and_users(builder: RequestBuilder) -> None:
    assert builder.get_channel("presence-room").path == "/apps/app-id/channels/presence-room"
    users = builder.get_users("presence-room")
    assert users.path == "/apps/app-id/channels/presence-room/users"
    with pytest.raises(ValidationError, match="presence"):
        builder.get_users("private-room")


def test_generic_get_relative_and_absolute(builder: RequestBuilder) -> None:
    assert builder.get("/channels").path == "/apps/app-id/channels"
    assert builder.get("/apps/app-id/channels").path == "/apps/app-id/channels"
    assert builder.get("/apps/app-idx/channels").path == "/apps/app-id/apps/app-idx/channels"


def test_generic_post_body(builder: RequestBuilder) -> None:
    request = builder.post("/events", {"name": "e", "channels": ["c"], "data": "x"})
    assert request.body == b'{"name":"e","channels":["c"],"data":"x"}'
    assert_signed(request)


def test_query_values_escaped_on_wire(builder: RequestBuilder) -> None:
    request = builder.get("/channels", {"filter_by_prefix": "a&b #c=d+é"})
    assert "filter_by_prefix=a%26b%20%23c%3Dd%2B%C3%A9" in request.query_string
    assert dict(parse_qsl(request.query_string))["filter_by_prefix"] == "a&b #c=d+é"
    assert_signed(request)


def test_list_param_comma_joined(builder: RequestBuilder) -> None:
    request = builder.get("/channels", {"info": ["user_count", "subscription_count"]})
    assert query_of(request)["info"] == "user_count,subscription_count"


def test_base_path_sent_but_not_signed() -> None:
    config = Config(app_id="1", key="k", secret=SECRET, base_path="/ws")
    request = RequestBuilder(config, clock=lambda: NOW).trigger("c", "e", "x")
    assert request.path == "/ws/apps/1/events"
    params = {key: value for key, value in request.query if key != "auth_signature"}
    message = string_to_sign("POST", "/apps/1/events", params)
    expected = hmac.new(SECRET.encode(), message.encode(), hashlib.sha256).hexdigest()
    assert dict(request.query)["auth_signature"] == expected


def test_request_repr_hides_query(builder: RequestBuilder) -> None:
    request = builder.trigger("c", "e", "x")
    assert repr(request) == "<Request POST /apps/app-id/events>"


def test_request_is_deeply_immutable(builder: RequestBuilder) -> None:
    request = builder.trigger("c", "e", "x")
    assert isinstance(request.query, tuple)
    assert all(isinstance(pair, tuple) for pair in request.query)
    assert isinstance(request.headers, tuple)
    assert isinstance(request.body, bytes)


INVALID_CALLS = [
    ("trigger", ("", "e", "x"), {}, "channels"),
    ("trigger", ("a" * 201, "e", "x"), {}, "channels"),
    ("trigger", ("has space", "e", "x"), {}, "channels"),
    ("trigger", ("slash/name", "e", "x"), {}, "channels"),
    ("trigger", ("ünïcode", "e", "x"), {}, "channels"),
    ("trigger", ("#server-to-user-1", "e", "x"), {}, "channels"),
    ("trigger", ([f"c{i}" for i in range(101)], "e", "x"), {}, "channels"),
    ("trigger", ([], "e", "x"), {}, "channels"),
    ("trigger", ({"a": 1}, "e", "x"), {}, "channels"),
    ("trigger", (["ok", 5], "e", "x"), {}, "channels[1]"),
    ("trigger", ("c", "", "x"), {}, "event"),
    ("trigger", ("c", "e" * 201, "x"), {}, "event"),
    ("trigger", ("c", "e", "x"), {"socket_id": "123.456\n"}, "socket_id"),
    ("trigger", ("c", "e", "x"), {"socket_id": "\uff11\uff12\uff13.456"}, "socket_id"),
    ("trigger", ("c", "e", "x"), {"socket_id": "123.\u0664\u0665\u0666"}, "socket_id"),
    ("trigger", ("c", "e", "x"), {"socket_id": "123.456:evil"}, "socket_id"),
    ("trigger", ("c", "e", "x"), {"socket_id": "123"}, "socket_id"),
    ("trigger", ("c", "e", "x"), {"info": {"user_count": 1}}, "info"),
    ("trigger", ("c", "e", b"\xff"), {}, "data"),
    ("trigger_batch", ([{"channel": "c", "name": "e", "data": "x"}] * 11,), {}, "events"),
    ("trigger_batch", ([],), {}, "events"),
    ("trigger_batch", ({"channel": "c"},), {}, "events"),
    ("trigger_batch", ([{"channel": "c", "name": "e"}],), {}, "events[0].data"),
    ("trigger_batch", ([{"channel": "c", "name": "e", "data": "x", "x": 1}],), {}, "events[0].x"),
    (
        "trigger_batch",
        ([{"channel": "bad name", "name": "e", "data": "x"}],),
        {},
        "events[0].channel",
    ),
    (
        "trigger_batch",
        ([{"channel": "c", "name": "e", "data": "x", "socket_id": "1"}],),
        {},
        "events[0].socket_id",
    ),
    ("send_to_user", ("", "e", "x"), {}, "user_id"),
    ("send_to_user", ("u\n1", "e", "x"), {}, "user_id"),
    ("terminate_user_connections", ("",), {}, "user_id"),
    ("get", ("channels",), {}, "path"),
    ("get", ("/channels?x=1",), {}, "path"),
    ("get", ("/channels", {"auth_signature": "x"}), {}, "params['auth_signature']"),
    ("get", ("/channels", {"body_md5": "x"}), {}, "params['body_md5']"),
    ("get", ("/channels", {"auth_key": "x"}), {}, "params['auth_key']"),
    ("get", ("/channels", {"auth_timestamp": "x"}), {}, "params['auth_timestamp']"),
    ("get", ("/channels", {"auth_version": "x"}), {}, "params['auth_version']"),
    ("get", ("/channels", {"x": 1.5}), {}, "params['x']"),
    ("list_channels", (), {"filter_by_prefix": ""}, "filter_by_prefix"),
    ("get_channel", ("bad channel",), {}, "channel"),
]


@pytest.mark.parametrize(("method", "args", "kwargs", "field"), INVALID_CALLS)
def test_invalid_input_names_field(
    builder: RequestBuilder,
    method: str,
    args: tuple[object, ...],
    kwargs: dict[str, object],
    field: str,
) -> None:
    snapshot = copy.deepcopy((args, kwargs))
    with pytest.raises(ValidationError) as caught:
        getattr(builder, method)(*args, **kwargs)
    assert caught.value.field == field
    assert (args, kwargs) == snapshot


def test_encrypted_channel_must_be_alone() -> None:
    master = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
    config = Config(app_id="1", key="k", secret="s", encryption_master_key_base64=master)
    with pytest.raises(ValidationError) as caught:
        RequestBuilder(config).trigger(["private-encrypted-a", "b"], "e", "x")
    assert caught.value.field == "channels"


def test_create_signed_query_string_get(builder: RequestBuilder) -> None:
    query = builder.create_signed_query_string("GET", "/apps/app-id/channels")
    params = dict(parse_qsl(query))
    assert "body_md5" not in params
    message = string_to_sign(
        "GET", "/apps/app-id/channels", {k: v for k, v in params.items() if k != "auth_signature"}
    )
    expected = hmac.new(SECRET.encode(), message.encode(), hashlib.sha256).hexdigest()
    assert params["auth_signature"] == expected


def test_create_signed_query_string_body_md5(builder: RequestBuilder) -> None:
    query = builder.create_signed_query_string("post", "/apps/app-id/events", body='{"a":1}')
    assert dict(parse_qsl(query))["body_md5"] == hashlib.md5(b'{"a":1}').hexdigest()
