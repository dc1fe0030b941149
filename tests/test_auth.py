"""Tests for channel authorization, user authentication and the auth form helpers."""

from __future__ import annotations

import copy
import hashlib
import hmac
import json
from pathlib import Path
from types import MappingProxyType
from typing import Any

import pytest

from pusher_core.auth import (
    authenticate_user,
    authenticate_user_form,
    authorize_channel,
    authorize_channel_form,
)
from pusher_core.config import Config
from pusher_core.errors import ConfigurationError, ValidationError
from pusher_core.forms import MAX_FORM_FIELDS, parse_form

VECTORS = json.loads(
    (Path(__file__).parent / "vectors" / "npm_pusher_5.3.4.json").read_text(encoding="utf-8")
)
CREDENTIALS = VECTORS["credentials"]
SECRET = CREDENTIALS["secret"]
MASTER_KEY_BASE64 = CREDENTIALS["encryption_master_key_base64"]
CONFIG = Config(
    app_id=CREDENTIALS["app_id"],
    key=CREDENTIALS["key"],
    secret=SECRET,
    encryption_master_key_base64=MASTER_KEY_BASE64,
)
PLAIN_CONFIG = Config(app_id="3", key=CREDENTIALS["key"], secret=SECRET)
SOCKET_ID = "1234.1234"
MEMBER = {"user_id": "10", "user_info": {"name": "Zoë"}}


def expected_signature(message: str) -> str:
    digest = hmac.new(SECRET.encode(), message.encode("utf-8"), hashlib.sha256).hexdigest()
    return f"{CREDENTIALS['key']}:{digest}"


def assert_json_ready(result: dict[str, str]) -> None:
    assert json.loads(json.dumps(result)) == result
    assert all(isinstance(value, str) for value in result.values())


# Vectors from the npm library


@pytest.mark.parametrize(
    "vector", VECTORS["channel_authorizations"], ids=lambda vector: vector["name"]
)
def test_authorize_channel_matches_npm(vector: dict[str, Any]) -> None:
    given = vector["input"]

    result = authorize_channel(CONFIG, given["socket_id"], given["channel_name"], given["data"])

    assert result == vector["output"]
    assert_json_ready(result)


@pytest.mark.parametrize(
    "vector", VECTORS["user_authentications"], ids=lambda vector: vector["name"]
)
def test_authenticate_user_matches_npm(vector: dict[str, Any]) -> None:
    given = vector["input"]

    result = authenticate_user(CONFIG, given["socket_id"], given["user_data"])

    assert result == vector["output"]
    assert_json_ready(result)


# Channel authorization


def test_private_channel_signs_socket_and_channel() -> None:
    result = authorize_channel(PLAIN_CONFIG, SOCKET_ID, "private-room")

    assert result == {"auth": expected_signature(f"{SOCKET_ID}:private-room")}


def test_presence_signature_covers_returned_text() -> None:
    result = authorize_channel(CONFIG, SOCKET_ID, "presence-room", MEMBER)

    assert result["channel_data"] == '{"user_id":"10","user_info":{"name":"Zoë"}}'
    assert result["auth"] == expected_signature(
        f"{SOCKET_ID}:presence-room:{result['channel_data']}"
    )
    assert_json_ready(result)


def test_presence_keeps_extra_member_fields() -> None:
    member = {"user_id": "10", "extra": [1, 2]}

    result = authorize_channel(CONFIG, SOCKET_ID, "presence-room", member)

    assert json.loads(result["channel_data"]) == member


def test_presence_accepts_read_only_mapping() -> None:
    result = authorize_channel(CONFIG, SOCKET_ID, "presence-room", MappingProxyType(MEMBER))

    assert json.loads(result["channel_data"]) == MEMBER


def test_presence_data_not_mutated() -> None:
    member = {"user_id": "10", "user_info": {"tags": ["a"]}}
    original = copy.deepcopy(member)

    authorize_channel(CONFIG, SOCKET_ID, "presence-room", member)

    assert member == original


def test_encrypted_channel_gets_shared_secret() -> None:
    result = authorize_channel(CONFIG, SOCKET_ID, "private-encrypted-foobar")

    assert result["auth"] == expected_signature(f"{SOCKET_ID}:private-encrypted-foobar")
    assert result["shared_secret"] == VECTORS["channel_shared_secrets"][0]["shared_secret_base64"]
    assert_json_ready(result)


def test_encrypted_channel_without_master_key() -> None:
    with pytest.raises(ConfigurationError) as raised:
        authorize_channel(PLAIN_CONFIG, SOCKET_ID, "private-encrypted-foobar")

    assert raised.value.field == "encryption_master_key_base64"


@pytest.mark.parametrize("channel", ["my-channel", "public", "privatex-room", "presencex"])
def test_public_channel_is_rejected(channel: str) -> None:
    with pytest.raises(ValidationError, match="public channel") as raised:
        authorize_channel(CONFIG, SOCKET_ID, channel)

    assert raised.value.field == "channel"


@pytest.mark.parametrize(
    "channel", ["", "private-a b", "private-ü", "private-a\n", "private-" + "a" * 200, None, 1]
)
def test_bad_channel_name_is_rejected(channel: Any) -> None:
    with pytest.raises(ValidationError) as raised:
        authorize_channel(CONFIG, SOCKET_ID, channel)

    assert raised.value.field == "channel"


@pytest.mark.parametrize(
    "socket_id", ["", "1234", "1234.", ".1234", "a.1", "1.1\n", "1.1.1", "\u0661.\u0661", 1.5, None]
)
def test_bad_socket_id_is_rejected(socket_id: Any) -> None:
    with pytest.raises(ValidationError) as raised:
        authorize_channel(CONFIG, socket_id, "private-room")

    assert raised.value.field == "socket_id"


def test_presence_needs_channel_data() -> None:
    with pytest.raises(ValidationError) as raised:
        authorize_channel(CONFIG, SOCKET_ID, "presence-room")

    assert raised.value.field == "channel_data"


@pytest.mark.parametrize(
    "member", [{}, {"user_id": ""}, {"user_id": 10}, {"user_id": None}, {"id": "10"}]
)
def test_presence_needs_str_user_id(member: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as raised:
        authorize_channel(CONFIG, SOCKET_ID, "presence-room", member)

    assert raised.value.field == "channel_data.user_id"


@pytest.mark.parametrize("member", ["10", ["10"], 10])
def test_presence_data_must_be_mapping(member: Any) -> None:
    with pytest.raises(ValidationError) as raised:
        authorize_channel(CONFIG, SOCKET_ID, "presence-room", member)

    assert raised.value.field == "channel_data"


@pytest.mark.parametrize(
    "member",
    [
        {"user_id": "10", "user_info": {"when": object()}},
        {"user_id": "10", "user_info": float("nan")},
        {"user_id": "10", "user_info": "\ud800"},
    ],
)
def test_presence_data_must_encode(member: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as raised:
        authorize_channel(CONFIG, SOCKET_ID, "presence-room", member)

    assert raised.value.field == "channel_data"


def test_private_channel_rejects_channel_data() -> None:
    with pytest.raises(ValidationError, match="only presence channels") as raised:
        authorize_channel(CONFIG, SOCKET_ID, "private-room", MEMBER)

    assert raised.value.field == "channel_data"


def test_presence_uses_configured_json_encoder() -> None:
    class SetEncoder(json.JSONEncoder):
        def default(self, o: Any) -> Any:
            if isinstance(o, set):
                return sorted(o)
            return super().default(o)

    config = Config(app_id="3", key="key", secret="secret", json_encoder=SetEncoder)

    result = authorize_channel(config, SOCKET_ID, "presence-room", {"user_id": "1", "s": {2, 1}})

    assert result["channel_data"] == '{"user_id":"1","s":[1,2]}'


# User authentication


def test_user_signature_covers_returned_text() -> None:
    result = authenticate_user(CONFIG, SOCKET_ID, {"id": "ü-1", "watchlist": ["a"]})

    assert result["user_data"] == '{"id":"ü-1","watchlist":["a"]}'
    assert result["auth"] == expected_signature(f"{SOCKET_ID}::user::{result['user_data']}")
    assert_json_ready(result)


@pytest.mark.parametrize(
    "user_data", [{}, {"id": ""}, {"id": 1}, {"id": None}, {"user_id": "1"}, {"id": "a\nb"}]
)
def test_user_needs_str_id(user_data: dict[str, Any]) -> None:
    with pytest.raises(ValidationError) as raised:
        authenticate_user(CONFIG, SOCKET_ID, user_data)

    assert raised.value.field == "user_data.id"


@pytest.mark.parametrize("user_data", ["user-1", None, ["user-1"]])
def test_user_data_must_be_mapping(user_data: Any) -> None:
    with pytest.raises(ValidationError) as raised:
        authenticate_user(CONFIG, SOCKET_ID, user_data)

    assert raised.value.field == "user_data"


def test_user_bad_socket_id() -> None:
    with pytest.raises(ValidationError) as raised:
        authenticate_user(CONFIG, "1234", {"id": "1"})

    assert raised.value.field == "socket_id"


def test_user_data_not_mutated() -> None:
    user_data = {"id": "1", "user_info": {"roles": ["admin"]}}
    original = copy.deepcopy(user_data)

    authenticate_user(CONFIG, SOCKET_ID, user_data)

    assert user_data == original


def test_user_data_must_encode() -> None:
    with pytest.raises(ValidationError) as raised:
        authenticate_user(CONFIG, SOCKET_ID, {"id": "1", "user_info": {1j}})

    assert raised.value.field == "user_data"


# Secrets stay out of messages


def failing_calls() -> list[Any]:
    return [
        lambda: authorize_channel(CONFIG, "bad", "private-room"),
        lambda: authorize_channel(CONFIG, SOCKET_ID, "public"),
        lambda: authorize_channel(CONFIG, SOCKET_ID, "presence-room", {"user_id": 1}),
        lambda: authorize_channel(PLAIN_CONFIG, SOCKET_ID, "private-encrypted-x"),
        lambda: authenticate_user(CONFIG, SOCKET_ID, {"id": ""}),
        lambda: authorize_channel_form(CONFIG, "socket_id=1.1&socket_id=1.1"),
    ]


@pytest.mark.parametrize("call", failing_calls())
def test_errors_never_contain_secrets(call: Any) -> None:
    with pytest.raises(ValidationError) as raised:
        call()

    for text in (str(raised.value), repr(raised.value)):
        assert SECRET not in text
        assert MASTER_KEY_BASE64 not in text


# Form parsing


def test_parse_form_decodes_once() -> None:
    form = parse_form("socket_id=1.2&channel_name=private-a%3Db&note=%2541+x")

    assert form == {"socket_id": "1.2", "channel_name": "private-a=b", "note": "%41 x"}


def test_parse_form_accepts_bytes() -> None:
    assert parse_form(b"name=%C3%BC&other=\xc3\xbc") == {"name": "ü", "other": "ü"}


def test_parse_form_keeps_blank_values() -> None:
    assert parse_form("socket_id=&channel_name=x") == {"socket_id": "", "channel_name": "x"}


def test_parse_form_rejects_duplicates() -> None:
    with pytest.raises(ValidationError, match="appears 2 times") as raised:
        parse_form("socket_id=1.1&channel_name=a&channel_name=b")

    assert raised.value.field == "channel_name"


def test_parse_form_rejects_missing_field() -> None:
    with pytest.raises(ValidationError, match="missing") as raised:
        parse_form("socket_id=1.1", ("socket_id", "channel_name"))

    assert raised.value.field == "channel_name"


def test_parse_form_empty_body_lacks_fields() -> None:
    with pytest.raises(ValidationError) as raised:
        parse_form("", ("socket_id",))

    assert raised.value.field == "socket_id"


@pytest.mark.parametrize(
    "body", ["socket_id", "a=1&&b=2", b"\xff=1", "a=%ff", "&".join(["a=1"] * (MAX_FORM_FIELDS + 1))]
)
def test_parse_form_rejects_malformed(body: str | bytes) -> None:
    with pytest.raises(ValidationError) as raised:
        parse_form(body)

    assert raised.value.field == "body"


@pytest.mark.parametrize("body", [None, 1, {"socket_id": "1.1"}])
def test_parse_form_rejects_non_text(body: Any) -> None:
    with pytest.raises(ValidationError) as raised:
        parse_form(body)

    assert raised.value.field == "body"


# Form helpers


def test_channel_form_private() -> None:
    result = authorize_channel_form(CONFIG, "socket_id=1234.1234&channel_name=private-foobar")

    assert result == VECTORS["channel_authorizations"][0]["output"]


def test_channel_form_ignores_member_for_private() -> None:
    result = authorize_channel_form(CONFIG, b"socket_id=1.2&channel_name=private-room", MEMBER)

    assert "channel_data" not in result


def test_channel_form_presence_with_mapping() -> None:
    result = authorize_channel_form(CONFIG, "socket_id=1.2&channel_name=presence-room", MEMBER)

    assert json.loads(result["channel_data"]) == MEMBER


def test_channel_form_presence_with_callable() -> None:
    calls: list[tuple[str, str]] = []

    def member_for(socket_id: str, channel: str) -> dict[str, Any]:
        calls.append((socket_id, channel))
        return MEMBER

    result = authorize_channel_form(CONFIG, "socket_id=1.2&channel_name=presence-room", member_for)

    assert calls == [("1.2", "presence-room")]
    assert json.loads(result["channel_data"]) == MEMBER


def test_channel_form_callable_can_deny() -> None:
    def deny(socket_id: str, channel: str) -> None:
        raise PermissionError(channel)

    with pytest.raises(PermissionError):
        authorize_channel_form(CONFIG, "socket_id=1.2&channel_name=private-room", deny)


def test_channel_form_encrypted_channel() -> None:
    result = authorize_channel_form(
        CONFIG, "socket_id=1234.1234&channel_name=private-encrypted-foobar"
    )

    assert result == VECTORS["channel_authorizations"][2]["output"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ("channel_name=private-room", "socket_id"),
        ("socket_id=1.2", "channel_name"),
        ("socket_id=1.2&socket_id=1.3&channel_name=private-room", "socket_id"),
        ("socket_id=1.2&channel_name=private%20room", "channel_name"),
        ("socket_id=1%2E2x&channel_name=private-room", "socket_id"),
    ],
)
def test_channel_form_rejects_bad_fields(body: str, field: str) -> None:
    with pytest.raises(ValidationError) as raised:
        authorize_channel_form(CONFIG, body)

    assert raised.value.field == field


def test_user_form_with_mapping() -> None:
    vector = VECTORS["user_authentications"][0]

    result = authenticate_user_form(CONFIG, "socket_id=1234.1234", vector["input"]["user_data"])

    assert result == vector["output"]


def test_user_form_with_callable() -> None:
    result = authenticate_user_form(CONFIG, b"socket_id=1.2", lambda socket_id: {"id": socket_id})

    assert json.loads(result["user_data"]) == {"id": "1.2"}


def test_user_form_needs_socket_id() -> None:
    with pytest.raises(ValidationError) as raised:
        authenticate_user_form(CONFIG, "channel_name=x", {"id": "1"})

    assert raised.value.field == "socket_id"
