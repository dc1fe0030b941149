"""Tests for end-to-end encryption: channel keys, sealing, opening and the PyNaCl extra."""

from __future__ import annotations

import copy
import json
import sys
from base64 import b64decode, b64encode
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from nacl.secret import SecretBox

from pusher_core import encryption
from pusher_core.builder import RequestBuilder
from pusher_core.config import Config
from pusher_core.errors import ConfigurationError, EncryptionError, ValidationError

VECTORS = json.loads(
    (Path(__file__).parent / "vectors" / "npm_pusher_5.3.4.json").read_text(encoding="utf-8")
)
CREDENTIALS = VECTORS["credentials"]
MASTER_KEY_BASE64 = CREDENTIALS["encryption_master_key_base64"]
FIXED_NONCE = b64decode(VECTORS["fixed_nonce_base64"])
CONFIG = Config(
    app_id=CREDENTIALS["app_id"],
    key=CREDENTIALS["key"],
    secret=CREDENTIALS["secret"],
    encryption_master_key_base64=MASTER_KEY_BASE64,
)
PLAIN_CONFIG = Config(app_id="3", key=CREDENTIALS["key"], secret=CREDENTIALS["secret"])
CHANNEL = "private-encrypted-room"

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)


def open_raw(channel: str, data: str) -> bytes:
    envelope = json.loads(data)
    key = b64decode(encryption.shared_secret(CONFIG, channel))
    return SecretBox(key).decrypt(b64decode(envelope["ciphertext"]), b64decode(envelope["nonce"]))


def test_master_key_has_bytes_above_0x7f() -> None:
    # The vectors only prove UTF-8 handling is absent if the key has such bytes.
    assert max(b64decode(MASTER_KEY_BASE64)) > 0x7F


@pytest.mark.parametrize(
    "vector", VECTORS["channel_shared_secrets"], ids=lambda vector: vector["channel"]
)
def test_channel_key_matches_npm(vector: dict[str, Any]) -> None:
    master_key = b64decode(vector["master_key_base64"])

    key = encryption.channel_key(master_key, vector["channel"])

    assert b64encode(key).decode("ascii") == vector["shared_secret_base64"]


@pytest.mark.parametrize(
    "vector", VECTORS["channel_shared_secrets"], ids=lambda vector: vector["channel"]
)
def test_shared_secret_is_base64_text(vector: dict[str, Any]) -> None:
    secret = encryption.shared_secret(CONFIG, vector["channel"])

    assert isinstance(secret, str)
    assert secret == vector["shared_secret_base64"]


@pytest.mark.parametrize("vector", VECTORS["encrypted_triggers"], ids=lambda vector: vector["name"])
def test_encrypt_event_data_matches_npm(vector: dict[str, Any]) -> None:
    data = encryption.encrypt_event_data(
        CONFIG, vector["channel"], vector["plaintext"], b64decode(vector["nonce_base64"])
    )

    assert data == vector["data"]


def test_encrypt_with_fixed_nonce_matches_npm() -> None:
    vector = VECTORS["encrypted_triggers"][0]
    channel, _event, value = vector["call"]["args"]

    assert encryption.encrypt(CONFIG, channel, value, nonce=FIXED_NONCE) == vector["data"]


def test_builder_trigger_data_matches_npm() -> None:
    vector = VECTORS["encrypted_triggers"][0]
    channel, event, value = vector["call"]["args"]
    builder = RequestBuilder(CONFIG, clock=lambda: 1700000000, nonce_factory=lambda: FIXED_NONCE)

    body = json.loads(builder.trigger(channel, event, value).body)

    assert body["data"] == vector["data"]


def test_builder_batch_data_matches_npm() -> None:
    vector = VECTORS["encrypted_triggers"][1]
    builder = RequestBuilder(CONFIG, clock=lambda: 1700000000, nonce_factory=lambda: FIXED_NONCE)

    body = json.loads(builder.trigger_batch(vector["call"]["args"][0]).body)

    assert body["batch"][0]["data"] == vector["data"]


def test_str_is_sealed_as_json_string() -> None:
    data = encryption.encrypt(CONFIG, CHANNEL, "hi", nonce=FIXED_NONCE)

    assert open_raw(CHANNEL, data) == b'"hi"'
    assert encryption.decrypt(CONFIG, CHANNEL, data) == "hi"


def test_event_data_is_compact_envelope() -> None:
    data = encryption.encrypt(CONFIG, CHANNEL, {"a": 1}, nonce=FIXED_NONCE)

    assert data.startswith('{"nonce":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYX","ciphertext":"')
    assert " " not in data
    assert list(json.loads(data)) == ["nonce", "ciphertext"]


def test_non_ascii_plaintext_is_utf8() -> None:
    data = encryption.encrypt(CONFIG, CHANNEL, {"text": "héllo 🎉"}, nonce=FIXED_NONCE)

    assert open_raw(CHANNEL, data) == '{"text":"héllo 🎉"}'.encode()


def test_fresh_nonce_per_call() -> None:
    first = json.loads(encryption.encrypt(CONFIG, CHANNEL, {"a": 1}))
    second = json.loads(encryption.encrypt(CONFIG, CHANNEL, {"a": 1}))

    assert first["nonce"] != second["nonce"]
    assert len(b64decode(first["nonce"])) == encryption.NONCE_SIZE


@given(json_values)
def test_encrypt_decrypt_round_trip(value: Any) -> None:
    data = encryption.encrypt(CONFIG, CHANNEL, value)

    assert encryption.decrypt(CONFIG, CHANNEL, data) == value


def test_decrypt_accepts_bytes() -> None:
    data = encryption.encrypt(CONFIG, CHANNEL, [1, 2])

    assert encryption.decrypt(CONFIG, CHANNEL, data.encode("utf-8")) == [1, 2]


def test_decrypt_wrong_channel_fails() -> None:
    data = encryption.encrypt(CONFIG, CHANNEL, {"a": 1})

    with pytest.raises(EncryptionError, match="decryption failed"):
        encryption.decrypt(CONFIG, "private-encrypted-other", data)


def test_decrypt_wrong_master_key_fails() -> None:
    other = Config(
        app_id="3", key="k", secret="s", encryption_master_key_base64=b64encode(bytes(32)).decode()
    )
    data = encryption.encrypt(CONFIG, CHANNEL, {"a": 1})

    with pytest.raises(EncryptionError) as raised:
        encryption.decrypt(other, CHANNEL, data)

    assert MASTER_KEY_BASE64 not in str(raised.value)


def test_decrypt_tampered_ciphertext_fails() -> None:
    envelope = json.loads(encryption.encrypt(CONFIG, CHANNEL, {"a": 1}))
    sealed = bytearray(b64decode(envelope["ciphertext"]))
    sealed[-1] ^= 1
    envelope["ciphertext"] = b64encode(bytes(sealed)).decode()

    with pytest.raises(EncryptionError):
        encryption.decrypt(CONFIG, CHANNEL, json.dumps(envelope))


@pytest.mark.parametrize(
    "data",
    [
        "not json",
        "[]",
        '"text"',
        '{"nonce":"AAAA"}',
        '{"nonce":1,"ciphertext":"AAAA"}',
        '{"nonce":"A A","ciphertext":"AAAA"}',
        '{"nonce":"AAAA","ciphertext":"AAAA"}',
        b"\xff",
    ],
)
def test_decrypt_rejects_malformed_data(data: str | bytes) -> None:
    with pytest.raises(EncryptionError):
        encryption.decrypt(CONFIG, CHANNEL, data)


def test_decrypt_non_json_plaintext_fails() -> None:
    box = SecretBox(b64decode(encryption.shared_secret(CONFIG, CHANNEL)))
    sealed = box.encrypt(b"not json", FIXED_NONCE).ciphertext
    data = json.dumps(
        {"nonce": b64encode(FIXED_NONCE).decode(), "ciphertext": b64encode(sealed).decode()}
    )

    with pytest.raises(EncryptionError, match="not UTF-8 JSON"):
        encryption.decrypt(CONFIG, CHANNEL, data)


@pytest.mark.parametrize("channel", ["private-room", "presence-room", "my-channel", "bad name"])
def test_public_helpers_need_encrypted_channel(channel: str) -> None:
    with pytest.raises(ValidationError) as raised:
        encryption.encrypt(CONFIG, channel, {"a": 1})

    assert raised.value.field == "channel"


def test_missing_master_key_is_configuration_error() -> None:
    with pytest.raises(ConfigurationError) as raised:
        encryption.encrypt(PLAIN_CONFIG, CHANNEL, {"a": 1})

    assert raised.value.field == "encryption_master_key_base64"


@pytest.mark.parametrize("nonce", [b"", bytes(23), bytes(25), "x" * 24])
def test_nonce_must_be_24_bytes(nonce: Any) -> None:
    with pytest.raises(ValidationError) as raised:
        encryption.encrypt(CONFIG, CHANNEL, {"a": 1}, nonce=nonce)

    assert raised.value.field == "nonce"


def test_lone_surrogate_data_is_rejected() -> None:
    with pytest.raises(ValidationError) as raised:
        encryption.encrypt(CONFIG, CHANNEL, "\ud800")

    assert raised.value.field == "data"


def test_unencodable_data_is_rejected() -> None:
    with pytest.raises(ValidationError) as raised:
        encryption.encrypt(CONFIG, CHANNEL, {"when": object()})

    assert raised.value.field == "data"


@pytest.mark.parametrize("master_key", [b"", bytes(31), bytes(33), "x" * 32])
def test_channel_key_needs_32_byte_master_key(master_key: Any) -> None:
    with pytest.raises(ValidationError) as raised:
        encryption.channel_key(master_key, CHANNEL)

    assert raised.value.field == "master_key"


def test_channel_key_is_cached() -> None:
    master_key = b64decode(MASTER_KEY_BASE64)
    channel = "private-encrypted-cache-check"
    encryption.channel_key(master_key, channel)
    hits = encryption._derive_channel_key.cache_info().hits

    encryption.channel_key(master_key, channel)

    assert encryption._derive_channel_key.cache_info().hits == hits + 1


def test_same_batch_twice_gives_two_valid_sends() -> None:
    events = [{"channel": CHANNEL, "name": "my-event", "data": {"text": "héllo", "n": [1, 2]}}]
    original = copy.deepcopy(events)
    builder = RequestBuilder(CONFIG)

    first = json.loads(builder.trigger_batch(events).body)["batch"][0]["data"]
    second = json.loads(builder.trigger_batch(events).body)["batch"][0]["data"]

    assert events == original
    assert json.loads(first)["nonce"] != json.loads(second)["nonce"]
    assert encryption.decrypt(CONFIG, CHANNEL, first) == original[0]["data"]
    assert encryption.decrypt(CONFIG, CHANNEL, second) == original[0]["data"]


def test_encrypt_leaves_data_unchanged() -> None:
    data = {"nested": {"list": [1, 2]}}
    original = copy.deepcopy(data)

    encryption.encrypt(CONFIG, CHANNEL, data)

    assert data == original


def test_missing_pynacl_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    # A None entry in sys.modules makes the import raise ImportError.
    monkeypatch.setitem(sys.modules, "nacl.secret", None)
    monkeypatch.setitem(sys.modules, "nacl.bindings", None)

    with pytest.raises(EncryptionError) as raised:
        encryption.encrypt(CONFIG, CHANNEL, {"a": 1})

    assert "pip install 'pusher-channels[encryption]'" in str(raised.value)


def test_missing_pynacl_fails_decrypt_too(monkeypatch: pytest.MonkeyPatch) -> None:
    data = encryption.encrypt(CONFIG, CHANNEL, {"a": 1})
    monkeypatch.setitem(sys.modules, "nacl.secret", None)
    monkeypatch.setitem(sys.modules, "nacl.bindings", None)

    with pytest.raises(EncryptionError, match=r"pusher-channels\[encryption\]"):
        encryption.decrypt(CONFIG, CHANNEL, data)


def test_bad_master_key_error_states_length_only() -> None:
    short_key = b64encode(b"\xfe" * 31).decode()

    with pytest.raises(ConfigurationError) as raised:
        Config(app_id="3", key="k", secret="s", encryption_master_key_base64=short_key)

    assert "got 31" in str(raised.value)
    assert short_key not in str(raised.value)


def test_config_repr_hides_master_key() -> None:
    assert MASTER_KEY_BASE64 not in repr(CONFIG)
    assert CREDENTIALS["secret"] not in repr(CONFIG)
