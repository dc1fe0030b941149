"""End-to-end encryption of events on ``private-encrypted-`` channels.

Each channel has its own key: the SHA-256 of the channel name's UTF-8 bytes followed by
the 32 master-key bytes. An event's data is sealed with NaCl secretbox (XSalsa20-Poly1305)
under that key and a fresh 24-byte nonce, and sent as the compact JSON text
``{"nonce":"<base64>","ciphertext":"<base64>"}``, which pusher-js decrypts. The sealed
plaintext is always the JSON encoding of the data, so the str ``hi`` is sealed as
``"hi"`` with its quotes.

PyNaCl is an optional dependency, imported only when encryption is used. No message in
this module quotes the master key or a channel key.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from base64 import b64decode, b64encode
from typing import TYPE_CHECKING, Any

from pusher_core.config import decode_master_key
from pusher_core.data import to_json
from pusher_core.errors import ConfigurationError, EncryptionError, ValidationError
from pusher_core.validation import validate_channel

if TYPE_CHECKING:
    from pusher_core.config import Config

__all__ = [
    "ENCRYPTED_CHANNEL_PREFIX",
    "KEY_SIZE",
    "NONCE_SIZE",
    "channel_key",
    "decrypt",
    "decrypt_event_data",
    "encrypt",
    "encrypt_event_data",
    "is_encrypted_channel",
    "random_nonce",
    "shared_secret",
]

ENCRYPTED_CHANNEL_PREFIX = "private-encrypted-"
KEY_SIZE = 32
NONCE_SIZE = 24
_INSTALL_HINT = "install the encryption extra: pip install 'pusher-channels[encryption]'"
# Enough for the encrypted channels one process serves at a time. A miss costs one
# SHA-256, so a larger working set only loses speed.
_CHANNEL_KEY_CACHE_SIZE = 4096


def is_encrypted_channel(channel: str) -> bool:
    """Return whether a channel name starts with ``private-encrypted-``."""
    return channel.startswith(ENCRYPTED_CHANNEL_PREFIX)


def random_nonce() -> bytes:
    """Return 24 bytes from the operating system's CSPRNG, for one sealed event."""
    return os.urandom(NONCE_SIZE)


def _seal(message: bytes, nonce: bytes, key: bytes) -> bytes:
    # PyNaCl's binding takes the channel key directly, so no `SecretBox` is built per
    # event. `SecretBox.encrypt` calls the same function, so the bytes are the same.
    try:
        from nacl.bindings import crypto_secretbox
    except ImportError as exc:
        raise EncryptionError(f"encrypted channels need PyNaCl; {_INSTALL_HINT}") from exc
    return crypto_secretbox(message, nonce, key)


def _open(ciphertext: bytes, nonce: bytes, key: bytes) -> bytes:
    try:
        from nacl.bindings import crypto_secretbox_open
    except ImportError as exc:
        raise EncryptionError(f"encrypted channels need PyNaCl; {_INSTALL_HINT}") from exc
    return crypto_secretbox_open(ciphertext, nonce, key)


@functools.lru_cache(maxsize=_CHANNEL_KEY_CACHE_SIZE)
def _derive_channel_key(master_key: bytes, channel: str) -> bytes:
    return hashlib.sha256(channel.encode("utf-8") + master_key).digest()


def channel_key(master_key: bytes, channel: str) -> bytes:
    """Derive the 32-byte key of one encrypted channel, caching recent results.

    Args:
        master_key: The 32 decoded master-key bytes.
        channel: The channel name.

    Returns:
        SHA-256 of the channel name's UTF-8 bytes followed by the master key.

    Raises:
        ValidationError: The master key is not 32 bytes.
    """
    if not isinstance(master_key, bytes) or len(master_key) != KEY_SIZE:
        raise ValidationError("master_key", f"must be {KEY_SIZE} bytes")
    return _derive_channel_key(master_key, channel)


def _master_key(config: Config) -> bytes:
    master_key = config.encryption_master_key
    if master_key is None:
        raise _missing_master_key()
    return master_key


def _missing_master_key() -> ConfigurationError:
    return ConfigurationError(
        "encryption_master_key_base64",
        "is required for private-encrypted- channels; set it in Config",
    )


def _config_channel_key(config: Config, channel: str) -> bytes:
    encoded = config.encryption_master_key_base64
    if encoded is None:
        raise _missing_master_key()
    return _cached_channel_key(encoded, channel)


@functools.lru_cache(maxsize=_CHANNEL_KEY_CACHE_SIZE)
def _cached_channel_key(encoded_master_key: str, channel: str) -> bytes:
    # Keyed by the base64 text that Config holds, so a cache hit also skips decoding
    # the master key. Config checked the text when it was built.
    return channel_key(decode_master_key(encoded_master_key), channel)


def _encrypted_channel(channel: object) -> str:
    name = validate_channel(channel)
    if not is_encrypted_channel(name):
        raise ValidationError("channel", f"{name!r} is not a private-encrypted- channel")
    return name


def shared_secret(config: Config, channel: str) -> str:
    """Return the key of an encrypted channel as standard padded base64 text.

    This is the ``shared_secret`` that pusher-js needs to decrypt the channel's events.

    Raises:
        ValidationError: The channel name is invalid or not ``private-encrypted-``.
        ConfigurationError: No master key is configured.
    """
    name = _encrypted_channel(channel)
    return b64encode(channel_key(_master_key(config), name)).decode("ascii")


def encrypt_event_data(config: Config, channel: str, plaintext: str, nonce: bytes) -> str:
    """Seal JSON text for a channel and return the event data to send.

    Args:
        config: The configuration holding the master key.
        channel: The encrypted channel the event goes to.
        plaintext: The JSON text of the event data.
        nonce: 24 fresh bytes; never reuse a nonce under the same channel key.

    Returns:
        The compact JSON text ``{"nonce":"<base64>","ciphertext":"<base64>"}``.

    Raises:
        ConfigurationError: No master key is configured.
        ValidationError: The nonce is not 24 bytes, or the plaintext contains a lone
            surrogate, which UTF-8 cannot encode.
        EncryptionError: PyNaCl is not installed.
    """
    if not isinstance(nonce, bytes) or len(nonce) != NONCE_SIZE:
        raise ValidationError("nonce", f"must be {NONCE_SIZE} bytes")
    try:
        message = plaintext.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValidationError(
            "data", "contains a lone surrogate, which UTF-8 cannot encode"
        ) from exc
    ciphertext = _seal(message, nonce, _config_channel_key(config, channel))
    # Base64 text needs no JSON escaping, so this equals the compact `json.dumps` of
    # the two fields, without building an encoder per event.
    encoded_nonce = b64encode(nonce).decode("ascii")
    encoded_ciphertext = b64encode(ciphertext).decode("ascii")
    return f'{{"nonce":"{encoded_nonce}","ciphertext":"{encoded_ciphertext}"}}'


def encrypt(config: Config, channel: str, data: Any, *, nonce: bytes | None = None) -> str:
    """Encode data as JSON and seal it for an encrypted channel.

    A str is encoded as a JSON string too, so pusher-js hands the subscriber the same
    str back.

    Args:
        config: The configuration holding the master key and the JSON encoder.
        channel: A ``private-encrypted-`` channel name.
        data: Any value the configured JSON encoder accepts.
        nonce: 24 bytes to use instead of fresh random ones, for reproducible tests.

    Returns:
        The event data to send: ``{"nonce":"<base64>","ciphertext":"<base64>"}``.

    Raises:
        ValidationError: The channel, the nonce or the data is invalid.
        ConfigurationError: No master key is configured.
        EncryptionError: PyNaCl is not installed.
    """
    name = _encrypted_channel(channel)
    plaintext = to_json(data, config.json_encoder, "data")
    return encrypt_event_data(config, name, plaintext, random_nonce() if nonce is None else nonce)


def decrypt_event_data(config: Config, channel: str, data: str | bytes) -> Any:
    """Reverse `encrypt_event_data`: return the decoded JSON value the event carried.

    Raises:
        ConfigurationError: No master key is configured.
        EncryptionError: The data is not a sealed event, fails authentication under the
            channel's key, or PyNaCl is not installed.
    """
    try:
        envelope = json.loads(data)
        nonce = b64decode(envelope["nonce"], validate=True)
        ciphertext = b64decode(envelope["ciphertext"], validate=True)
    except (ValueError, KeyError, TypeError) as exc:
        raise EncryptionError("the data is not an encrypted event {nonce, ciphertext}") from exc
    key = _config_channel_key(config, channel)
    try:
        from nacl.exceptions import CryptoError

        plaintext = _open(ciphertext, nonce, key)
    except (CryptoError, ValueError) as exc:
        raise EncryptionError(f"decryption failed for channel {channel!r}") from exc
    try:
        return json.loads(plaintext.decode("utf-8"))
    except ValueError as exc:
        raise EncryptionError(
            f"the decrypted data for channel {channel!r} is not UTF-8 JSON"
        ) from exc


def decrypt(config: Config, channel: str, data: str | bytes) -> Any:
    """Open the data of an event sent on an encrypted channel.

    Use it in tests, or to read client events that a webhook delivers sealed.

    Args:
        config: The configuration holding the master key.
        channel: The ``private-encrypted-`` channel the event was sent on.
        data: The event data, ``{"nonce":"<base64>","ciphertext":"<base64>"}``.

    Returns:
        The decoded JSON value that was sealed.

    Raises:
        ValidationError: The channel name is invalid or not ``private-encrypted-``.
        ConfigurationError: No master key is configured.
        EncryptionError: The data is not a sealed event, or fails authentication under
            the channel's key (a wrong master key, channel or tampered data).
    """
    return decrypt_event_data(config, _encrypted_channel(channel), data)
