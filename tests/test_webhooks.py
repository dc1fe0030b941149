"""Tests for webhook checking, typed events and the webhook signer."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pusher_core import encryption
from pusher_core.config import Config
from pusher_core.errors import EncryptionError, ValidationError, WebhookError
from pusher_core.webhooks import (
    CacheMiss,
    ChannelOccupied,
    ChannelVacated,
    ClientEvent,
    MemberAdded,
    MemberRemoved,
    SubscriptionCount,
    UnknownEvent,
    Webhook,
    sign_webhook,
)

VECTORS = json.loads(
    (Path(__file__).parent / "vectors" / "npm_pusher_5.3.4.json").read_text(encoding="utf-8")
)
CREDENTIALS = VECTORS["credentials"]
KEY = CREDENTIALS["key"]
SECRET = CREDENTIALS["secret"]
CONFIG = Config(
    app_id=CREDENTIALS["app_id"],
    key=KEY,
    secret=SECRET,
    encryption_master_key_base64=CREDENTIALS["encryption_master_key_base64"],
)
WEBHOOKS = {vector["name"]: vector for vector in VECTORS["webhooks"]}
VALID = WEBHOOKS["valid_json_content_type"]
TIME_MS = 1700000000987
EVENTS = [{"name": "channel_occupied", "channel": "my-channel"}]


def signed(events: list[dict[str, Any]] = EVENTS, time_ms: int = TIME_MS) -> Webhook:
    headers, body = sign_webhook(CONFIG, events, time_ms)
    return Webhook(CONFIG, headers, body)


def with_headers(**changes: Any) -> dict[str, Any]:
    headers: dict[str, Any] = dict(VALID["input"]["headers"])
    headers.update(changes)
    return {name: value for name, value in headers.items() if value is not None}


# Vectors from the npm library


def test_npm_valid_webhook() -> None:
    webhook = Webhook(CONFIG, VALID["input"]["headers"], VALID["input"]["body"])

    assert webhook.is_valid()
    assert webhook.reason is None
    assert webhook.time_ms == TIME_MS
    assert webhook.data == json.loads(VALID["input"]["body"])


def test_npm_events_are_typed() -> None:
    webhook = Webhook(CONFIG, VALID["input"]["headers"], VALID["input"]["body"].encode())

    occupied, added, client = webhook.events

    assert occupied == ChannelOccupied(name="channel_occupied", channel="presence-room", raw={})
    assert isinstance(added, MemberAdded)
    assert added.user_id == "user-1"
    assert isinstance(client, ClientEvent)
    assert client.channel == "private-chät"
    assert client.event == "client-ping"
    assert json.loads(client.data or "") == {"emoji": "🎉"}
    assert client.socket_id == "123.456"
    assert client.user_id is None


def test_charset_parameter_is_accepted() -> None:
    # npm 5.3.4 rejects this webhook, but the parameter does not change the JSON.
    vector = WEBHOOKS["json_content_type_with_charset"]

    webhook = Webhook(CONFIG, vector["input"]["headers"], vector["input"]["body"])

    assert vector["is_valid"] is False
    assert webhook.is_valid()


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("wrong_signature", "bad_signature"),
        ("wrong_key", "unknown_key"),
        ("body_not_json", "bad_body"),
    ],
)
def test_npm_invalid_webhooks(name: str, reason: str) -> None:
    vector = WEBHOOKS[name]

    webhook = Webhook(CONFIG, vector["input"]["headers"], vector["input"]["body"])

    assert vector["is_valid"] is False
    assert not webhook.is_valid()
    assert webhook.reason == reason


def test_sign_webhook_matches_npm() -> None:
    payload = json.loads(VALID["input"]["body"])

    headers, body = sign_webhook(CONFIG, payload["events"], payload["time_ms"])

    assert body == VALID["input"]["body"].encode("utf-8")
    assert headers == {
        "Content-Type": "application/json",
        "X-Pusher-Key": KEY,
        "X-Pusher-Signature": VALID["expected_signature"],
    }


# Headers


def test_header_names_ignore_case() -> None:
    pairs = [(name.upper(), value) for name, value in VALID["input"]["headers"].items()]

    assert Webhook(CONFIG, pairs, VALID["input"]["body"]).is_valid()


def test_bytes_header_pairs_are_accepted() -> None:
    pairs = [(name.encode(), value.encode()) for name, value in VALID["input"]["headers"].items()]

    assert Webhook(CONFIG, pairs, VALID["input"]["body"]).is_valid()


@pytest.mark.parametrize(
    "content_type",
    [
        "application/json",
        "Application/JSON",
        "application/json;charset=UTF-8",
        " application/json ",
    ],
)
def test_json_content_types_are_valid(content_type: str) -> None:
    webhook = Webhook(
        CONFIG, with_headers(**{"content-type": content_type}), VALID["input"]["body"]
    )

    assert webhook.is_valid()


@pytest.mark.parametrize(
    "content_type",
    [None, "", "text/plain", "application/jsonx", "application/x-json", ["application/json"]],
)
def test_other_content_types_are_invalid(content_type: Any) -> None:
    webhook = Webhook(
        CONFIG, with_headers(**{"content-type": content_type}), VALID["input"]["body"]
    )

    assert webhook.reason == "bad_content_type"


@pytest.mark.parametrize(
    "signature",
    [
        None,
        "",
        [VALID["expected_signature"]],
        VALID["expected_signature"].upper(),
        VALID["expected_signature"] + " ",
        VALID["expected_signature"][:-1],
        "é" * 64,
    ],
)
def test_bad_signatures_are_invalid(signature: Any) -> None:
    webhook = Webhook(
        CONFIG, with_headers(**{"x-pusher-signature": signature}), VALID["input"]["body"]
    )

    assert not webhook.is_valid()
    assert webhook.reason == "bad_signature"


def test_repeated_signature_header_is_invalid() -> None:
    pairs = list(VALID["input"]["headers"].items())
    pairs.append(("X-Pusher-Signature", VALID["expected_signature"]))

    assert Webhook(CONFIG, pairs, VALID["input"]["body"]).reason == "bad_signature"


@pytest.mark.parametrize("key", [None, "", "other", KEY.upper()])
def test_unknown_keys_are_invalid(key: str | None) -> None:
    webhook = Webhook(CONFIG, with_headers(**{"x-pusher-key": key}), VALID["input"]["body"])

    assert webhook.reason == "unknown_key"
    assert webhook.key == key


@pytest.mark.parametrize("headers", ["content-type: x", b"x", 1, None, [("a", "b", "c")], [1]])
def test_wrong_header_container_raises(headers: Any) -> None:
    with pytest.raises(ValidationError) as raised:
        Webhook(CONFIG, headers, b"{}")

    assert raised.value.field == "headers"


# Body


def test_one_changed_byte_is_invalid() -> None:
    body = bytearray(VALID["input"]["body"].encode())
    body[10] ^= 1

    assert Webhook(CONFIG, VALID["input"]["headers"], bytes(body)).reason == "bad_signature"


@pytest.mark.parametrize(
    "body",
    [
        b"[]",
        b'{"time_ms":1}',
        b'{"events":[]}',
        b'{"time_ms":"1","events":[]}',
        b'{"time_ms":true,"events":[]}',
        b'{"time_ms":1,"events":{}}',
        b'{"time_ms":1,"events":[1]}',
        b'{"time_ms":1,"events":[{"channel":"x"}]}',
        b'{"time_ms":1,"events":[{"name":"member_added","channel":"x"}]}',
        b'{"time_ms":1,"events":[{"name":"client_event","channel":"x","data":"{}"}]}',
        b"\xff",
        b"[" * 100000,
    ],
)
def test_signed_malformed_bodies_are_bad_body(body: bytes) -> None:
    headers, _ = sign_webhook(CONFIG, [], 0)
    headers["X-Pusher-Signature"] = sign_signature(body)

    assert Webhook(CONFIG, headers, body).reason == "bad_body"


def sign_signature(body: bytes) -> str:
    import hashlib
    import hmac

    return hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()


def test_lone_surrogate_str_body_is_bad_body() -> None:
    headers, _ = sign_webhook(CONFIG, [], 0)

    assert Webhook(CONFIG, headers, "\ud800").reason == "bad_body"


@pytest.mark.parametrize("body", [None, 1, ["{}"]])
def test_wrong_body_type_raises(body: Any) -> None:
    with pytest.raises(ValidationError) as raised:
        Webhook(CONFIG, {}, body)

    assert raised.value.field == "body"


@given(
    st.binary(max_size=200), st.dictionaries(st.text(max_size=20), st.text(max_size=80), max_size=5)
)
def test_arbitrary_input_never_raises(body: bytes, headers: dict[str, str]) -> None:
    webhook = Webhook(CONFIG, headers, body)

    assert webhook.is_valid() is False
    assert webhook.reason is not None


@given(st.binary(max_size=200))
def test_signed_arbitrary_body_never_raises(body: bytes) -> None:
    headers = {
        "Content-Type": "application/json",
        "X-Pusher-Key": KEY,
        "X-Pusher-Signature": sign_signature(body),
    }

    webhook = Webhook(CONFIG, headers, body)

    assert webhook.reason in (None, "bad_body")


# Accessors


@pytest.mark.parametrize("accessor", ["data", "events", "time_ms"])
def test_accessors_raise_when_invalid(accessor: str) -> None:
    webhook = Webhook(
        CONFIG, with_headers(**{"x-pusher-signature": "0" * 64}), VALID["input"]["body"]
    )

    with pytest.raises(WebhookError) as raised:
        getattr(webhook, accessor)

    assert raised.value.reason == "bad_signature"


def test_data_is_a_fresh_copy() -> None:
    webhook = Webhook(CONFIG, VALID["input"]["headers"], VALID["input"]["body"])

    webhook.data["events"].clear()

    assert len(webhook.data["events"]) == 3


def test_event_raw_is_read_only() -> None:
    event = signed([{"name": "x", "nested": {"a": [1]}}]).events[0]

    with pytest.raises(TypeError):
        event.raw["name"] = "y"  # type: ignore[index]
    assert event.raw["nested"]["a"] == (1,)


def test_every_known_event_type() -> None:
    webhook = signed(
        [
            {"name": "channel_occupied", "channel": "c"},
            {"name": "channel_vacated", "channel": "c"},
            {"name": "member_added", "channel": "presence-c", "user_id": "u"},
            {"name": "member_removed", "channel": "presence-c", "user_id": "u"},
            {
                "name": "client_event",
                "channel": "presence-c",
                "event": "client-e",
                "data": "{}",
                "socket_id": "1.2",
                "user_id": "u",
            },
            {"name": "cache_miss", "channel": "cache-c"},
            {"name": "subscription_count", "channel": "c", "subscription_count": 3},
            {"name": "brand_new_event", "channel": "c", "extra": 1},
            {"name": "no_channel_event"},
        ]
    )

    kinds = [type(event) for event in webhook.events]

    assert kinds == [
        ChannelOccupied,
        ChannelVacated,
        MemberAdded,
        MemberRemoved,
        ClientEvent,
        CacheMiss,
        SubscriptionCount,
        UnknownEvent,
        UnknownEvent,
    ]
    assert webhook.events[4].user_id == "u"  # type: ignore[attr-defined]
    assert webhook.events[6].subscription_count == 3  # type: ignore[attr-defined]
    assert webhook.events[7].channel == "c"  # type: ignore[attr-defined]
    assert webhook.events[7].raw["extra"] == 1
    assert webhook.events[8].channel is None  # type: ignore[attr-defined]


def test_encrypted_client_event_decrypts() -> None:
    channel = "private-encrypted-chat"
    sealed = encryption.encrypt(CONFIG, channel, {"text": "héllo"})
    webhook = signed(
        [{"name": "client_event", "channel": channel, "event": "client-msg", "data": sealed}]
    )

    event = webhook.events[0]

    assert isinstance(event, ClientEvent)
    assert event.is_encrypted
    assert event.decrypt(CONFIG) == {"text": "héllo"}


def test_plain_client_event_does_not_decrypt() -> None:
    event = signed(
        [{"name": "client_event", "channel": "private-c", "event": "e", "data": "{}"}]
    ).events[0]

    assert isinstance(event, ClientEvent)
    assert not event.is_encrypted
    with pytest.raises(ValidationError):
        event.decrypt(CONFIG)


# Freshness


@pytest.mark.parametrize(
    ("now_ms", "reason"),
    [
        (TIME_MS, None),
        (TIME_MS + 300_000, None),
        (TIME_MS + 300_001, "stale"),
        (TIME_MS - 300_001, "stale"),
        (TIME_MS - 1000, None),
    ],
)
def test_freshness_window(now_ms: int, reason: str | None) -> None:
    headers, body = sign_webhook(CONFIG, EVENTS, TIME_MS)

    webhook = Webhook(CONFIG, headers, body, max_age=300, clock=lambda: now_ms / 1000)

    assert webhook.reason == reason


@pytest.mark.parametrize("max_age", [0, -1, True, "300", float("nan")])
def test_bad_max_age_raises(max_age: Any) -> None:
    with pytest.raises(ValidationError) as raised:
        Webhook(CONFIG, {}, b"", max_age=max_age)

    assert raised.value.field == "max_age"


# Credentials


@pytest.mark.parametrize(
    "extra",
    [
        ("other-key", "other-secret"),
        {"key": "other-key", "secret": "other-secret"},
        SimpleNamespace(key="other-key", secret="other-secret"),
    ],
)
def test_extra_credentials_forms(extra: Any) -> None:
    headers, body = sign_webhook(("other-key", "other-secret"), EVENTS, TIME_MS)

    assert Webhook(CONFIG, headers, body).reason == "unknown_key"
    assert Webhook(CONFIG, headers, body, extra_credentials=[extra]).is_valid()


def test_rotated_secret_for_same_key() -> None:
    headers, body = sign_webhook((KEY, "old-secret"), EVENTS, TIME_MS)

    assert Webhook(CONFIG, headers, body).reason == "bad_signature"
    assert Webhook(CONFIG, headers, body, extra_credentials=[(KEY, "old-secret")]).is_valid()


@pytest.mark.parametrize(
    "extra",
    [[("k",)], [("k", "")], [{"key": "k"}], [object()], ("k", "s"), {"key": "k", "secret": "s"}],
)
def test_bad_extra_credentials_raise(extra: Any) -> None:
    with pytest.raises(ValidationError) as raised:
        Webhook(CONFIG, {}, b"", extra_credentials=extra)

    assert raised.value.field.startswith("extra_credentials")
    assert SECRET not in str(raised.value)


def test_repr_hides_secret() -> None:
    webhook = Webhook(
        CONFIG,
        VALID["input"]["headers"],
        VALID["input"]["body"],
        extra_credentials=[("k2", "hidden-secret")],
    )

    assert SECRET not in repr(webhook)
    assert "hidden-secret" not in repr(webhook)
    assert KEY in repr(webhook)


# Signing


def test_sign_webhook_round_trip() -> None:
    events = [{"name": "client_event", "channel": "private-ü", "event": "client-x", "data": "ü"}]

    webhook = signed(events)

    assert webhook.is_valid()
    assert webhook.data == {"time_ms": TIME_MS, "events": events}


def test_sign_webhook_keeps_utf8() -> None:
    _, body = sign_webhook(CONFIG, [{"name": "x", "channel": "ü"}], TIME_MS)

    assert '"ü"'.encode() in body


@pytest.mark.parametrize(
    ("credentials", "events", "time_ms", "field"),
    [
        (("k",), EVENTS, TIME_MS, "credentials"),
        (CONFIG, EVENTS, "1", "time_ms"),
        (CONFIG, EVENTS, True, "time_ms"),
        (CONFIG, {"name": "x"}, TIME_MS, "events"),
        (CONFIG, ["x"], TIME_MS, "events[0]"),
        (CONFIG, [{"name": object()}], TIME_MS, "events"),
        (CONFIG, [{"name": "\ud800"}], TIME_MS, "events"),
        # Events a receiver would reject as a bad body are refused when signing.
        (CONFIG, [{"channel": "c"}], TIME_MS, "events[0]"),
        (CONFIG, [{"name": 5, "channel": "c"}], TIME_MS, "events[0]"),
        (CONFIG, [EVENTS[0], {"name": "member_removed", "channel": "c"}], TIME_MS, "events[1]"),
        (CONFIG, [{"name": "subscription_count", "channel": "c"}], TIME_MS, "events[0]"),
    ],
)
def test_sign_webhook_rejects_bad_input(
    credentials: Any, events: Any, time_ms: Any, field: str
) -> None:
    with pytest.raises(ValidationError) as raised:
        sign_webhook(credentials, events, time_ms)

    assert raised.value.field == field
    assert SECRET not in str(raised.value)


def test_sign_webhook_leaves_events_unchanged() -> None:
    events = [{"name": "x", "nested": {"a": [1]}}]

    sign_webhook(CONFIG, events, TIME_MS)

    assert events == [{"name": "x", "nested": {"a": [1]}}]


def test_client_event_with_decoded_data() -> None:
    # soketi 1.6.1 sends client event data as a JSON value, not as JSON text.
    events = [{"name": "client_event", "channel": "private-c", "event": "e", "data": {"n": [1]}}]

    event = signed(events).events[0]

    assert isinstance(event, ClientEvent)
    assert event.data["n"] == (1,)


def test_decoded_encrypted_client_event_decrypts() -> None:
    channel = "private-encrypted-chat"
    sealed = json.loads(encryption.encrypt(CONFIG, channel, "hi"))
    events = [{"name": "client_event", "channel": channel, "event": "client-e", "data": sealed}]

    event = signed(events).events[0]

    assert isinstance(event, ClientEvent)
    assert event.decrypt(CONFIG) == "hi"


@pytest.mark.parametrize("data", [None, 1, ["x"]])
def test_client_event_without_sealed_data(data: Any) -> None:
    channel = "private-encrypted-chat"
    events = [{"name": "client_event", "channel": channel, "event": "client-e", "data": data}]

    event = signed(events).events[0]

    assert isinstance(event, ClientEvent)
    with pytest.raises(EncryptionError):
        event.decrypt(CONFIG)
