"""Property tests: round trips, determinism, thread safety, and parsers that raise only ours.

The fuzz-style properties (any bytes into the webhook and response parsers) run at a
high example count, bounded by `FUZZ_EXAMPLES`, so CI spends a few seconds on them.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import string
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pusher_core import (
    Config,
    Request,
    RequestBuilder,
    RequestError,
    Response,
    UnexpectedResponseError,
    WebhookError,
)
from pusher_core.encryption import decrypt, encrypt
from pusher_core.results import (
    parse_batch_response,
    parse_channel_response,
    parse_channels_response,
    parse_json_response,
    parse_trigger_response,
    parse_users_response,
)
from pusher_core.signing import string_to_sign
from pusher_core.webhooks import Webhook, sign_webhook

SECRET = "property-secret"
MASTER_KEY = "AP9/gMOp4pyT8J+Oif4BEICQoLDA0ODw/ty6mHZUMhA="
CONFIG = Config(app_id="1", key="key", secret=SECRET, encryption_master_key_base64=MASTER_KEY)
FUZZ_EXAMPLES = 2000

channel_names = st.text(
    alphabet=string.ascii_letters + string.digits + "_-=@,.;", min_size=1, max_size=200
)
# Text that UTF-8 can carry: every code point but the surrogates.
utf8_text = st.text(alphabet=st.characters(exclude_categories=("Cs",)))
_event_extras = st.dictionaries(utf8_text, st.none() | st.integers() | utf8_text, max_size=3)
_KNOWN_EVENTS = (
    "channel_occupied",
    "channel_vacated",
    "member_added",
    "member_removed",
    "client_event",
    "cache_miss",
    "subscription_count",
)
# Events of a known kind carry every field any kind requires; events of other kinds
# pass through as they are. Extra fields come first so they never replace those.
webhook_events = st.builds(
    lambda name, extra: {**extra, "name": name},
    utf8_text.filter(lambda name: name not in _KNOWN_EVENTS),
    _event_extras,
) | st.builds(
    lambda name, extra, channel, user_id, count: {
        **extra,
        "name": name,
        "channel": channel,
        "user_id": user_id,
        "event": "client-" + user_id,
        "subscription_count": count,
    },
    st.sampled_from(_KNOWN_EVENTS),
    _event_extras,
    utf8_text,
    utf8_text,
    st.integers(0, 2**31),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | utf8_text,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(utf8_text, children, max_size=4)
    ),
    max_leaves=20,
)
params = st.dictionaries(
    st.text(alphabet=string.ascii_lowercase + "_", min_size=1, max_size=10).filter(
        lambda key: not key.startswith(("auth_", "body_md5"))
    ),
    utf8_text,
    max_size=5,
)


def signature_of(request: Request) -> str:
    """Recompute a request's signature independently of the builder."""
    signed = {key: value for key, value in request.query if key != "auth_signature"}
    message = string_to_sign(request.method, request.path, signed)
    return hmac.new(SECRET.encode(), message.encode(), hashlib.sha256).hexdigest()


@given(channel=channel_names, data=json_values, timestamp=st.integers(0, 2**40))
def test_trigger_signature_verifies(channel: str, data: Any, timestamp: int) -> None:
    builder = RequestBuilder(
        Config(app_id="1", key="key", secret=SECRET, payload_limit=None), clock=lambda: timestamp
    )
    request = builder.trigger(channel, "event", data)
    assert dict(request.query)["auth_signature"] == signature_of(request)
    assert dict(request.query)["body_md5"] == hashlib.md5(request.body).hexdigest()


@given(query=params)
def test_get_signature_verifies(query: dict[str, str]) -> None:
    request = RequestBuilder(CONFIG, clock=lambda: 1).get("/channels", query)
    assert dict(request.query)["auth_signature"] == signature_of(request)
    assert "body_md5" not in dict(request.query)


@given(channel=channel_names, data=json_values, query=params)
def test_same_inputs_same_request(channel: str, data: Any, query: dict[str, str]) -> None:
    builder = RequestBuilder(
        Config(app_id="1", key="key", secret=SECRET, payload_limit=None), clock=lambda: 5
    )
    assert builder.trigger(channel, "e", data) == builder.trigger(channel, "e", data)
    assert builder.get("/channels", query) == builder.get("/channels", query)


@given(
    events=st.lists(webhook_events, max_size=5),
    time_ms=st.integers(0, 2**50),
)
def test_webhook_sign_verify_round_trip(events: list[dict[str, Any]], time_ms: int) -> None:
    headers, body = sign_webhook(CONFIG, events, time_ms)
    webhook = Webhook(CONFIG, headers, body)
    assert webhook.is_valid()
    assert webhook.time_ms == time_ms


@given(
    events=st.lists(webhook_events, min_size=1, max_size=3),
    index=st.integers(0),
)
def test_webhook_one_byte_changed_is_invalid(events: list[dict[str, Any]], index: int) -> None:
    headers, body = sign_webhook(CONFIG, events, 1)
    assert Webhook(CONFIG, headers, body).is_valid()
    position = index % len(body)
    tampered = body[:position] + bytes([body[position] ^ 0x01]) + body[position + 1 :]
    assert not Webhook(CONFIG, headers, tampered).is_valid()


@given(channel=channel_names, data=json_values, nonce=st.binary(min_size=24, max_size=24))
def test_encrypt_decrypt_round_trip(channel: str, data: Any, nonce: bytes) -> None:
    name = "private-encrypted-" + channel[:180]
    sealed = encrypt(CONFIG, name, data, nonce=nonce)
    assert decrypt(CONFIG, name, sealed) == data
    assert set(json.loads(sealed)) == {"nonce", "ciphertext"}


header_pairs = st.lists(st.tuples(st.text(max_size=30), st.text(max_size=80)), max_size=6)
fuzz_settings = settings(
    max_examples=FUZZ_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@fuzz_settings
@given(headers=header_pairs, body=st.binary(max_size=300) | st.text(max_size=300))
def test_webhook_parser_never_raises_foreign_errors(
    headers: list[tuple[str, str]], body: bytes | str
) -> None:
    webhook = Webhook(CONFIG, headers, body)
    assert webhook.is_valid() is (webhook.reason is None)
    try:
        webhook.events  # noqa: B018 - reading it is the test
    except WebhookError:
        assert not webhook.is_valid()


# Webhook-shaped bodies whose fields have every JSON type, so that a correct signature
# lets the fuzzer past the header checks and into the body parser.
json_scalars = st.none() | st.booleans() | st.integers() | st.floats() | utf8_text
fuzzed_events = (
    st.fixed_dictionaries(
        {
            "name": st.sampled_from(
                ["channel_occupied", "member_added", "client_event", "subscription_count", "x"]
            )
            | json_scalars
        },
        optional={
            # Text comes first, because Hypothesis favours early branches and most fields are str.
            field: utf8_text | st.integers(0, 2**31) | json_scalars | json_values
            for field in ("channel", "user_id", "event", "data", "socket_id", "subscription_count")
        },
    )
    | json_values
)
webhook_bodies = st.builds(
    lambda time_ms, events: json.dumps({"time_ms": time_ms, "events": events}).encode(),
    st.integers(0, 2**53) | json_scalars,
    st.lists(fuzzed_events, max_size=4) | json_values,
) | st.binary(max_size=300)


@fuzz_settings
@given(body=webhook_bodies)
def test_signed_webhook_body_parses_or_is_bad_body(body: bytes) -> None:
    signature = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    headers = {"Content-Type": "application/json", "X-Pusher-Key": "key"}
    webhook = Webhook(CONFIG, {**headers, "X-Pusher-Signature": signature}, body)

    assert webhook.reason in (None, "bad_body")
    if webhook.is_valid():
        assert len(webhook.events) == len(webhook.data["events"])


@fuzz_settings
@given(
    status=st.integers(100, 599),
    headers=header_pairs,
    body=st.binary(max_size=300)
    | st.builds(lambda value: json.dumps(value).encode(), json_values)
    | st.sampled_from(
        [b'{"error":"x","code":401}', b'{"occupied":true}', b'{"users":[{"id":"1"}]}']
    ),
)
def test_response_parsers_raise_only_declared_errors(
    status: int, headers: list[tuple[str, str]], body: bytes
) -> None:
    request = RequestBuilder(CONFIG).list_channels()
    response = Response(status, headers, body)
    for parse in (
        parse_trigger_response,
        parse_batch_response,
        parse_channels_response,
        parse_channel_response,
        parse_users_response,
        parse_json_response,
    ):
        # Any other exception escapes and fails the test.
        with contextlib.suppress(RequestError, UnexpectedResponseError):
            parse(response, request)


def test_builds_from_many_threads_are_independent() -> None:
    builder = RequestBuilder(CONFIG)

    def build(index: int) -> tuple[int, Request]:
        return index, builder.trigger(f"channel-{index}", "event", {"index": index})

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(build, range(2000)))

    for index, request in results:
        assert json.loads(json.loads(request.body)["data"]) == {"index": index}
        assert json.loads(request.body)["channels"] == [f"channel-{index}"]
        assert dict(request.query)["auth_signature"] == signature_of(request)
