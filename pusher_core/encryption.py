"""End-to-end encryption of events on ``private-encrypted-`` channels.

Each channel has its own key: the SHA-256 of the channel name's UTF-8 bytes followed by
the 32 master-key bytes. An event's data is sealed with NaCl secretbox (XSalsa20-Poly1305)
under that key and a fresh 24-byte nonce, and sent as the compact JSON text
``{"nonce":"<base64>","ciphertext":"<base64>"}``, which pusher-js decrypts.

PyNaCl is an optional dependency, imported only when encryption is used.
"""

from __future__ import annotations

import hashlib
import json
from base64 import b64decode, b64encode
from typing import TYPE_CHECKING, Any

from pusher_core.errors import ConfigurationError, EncryptionError, ValidationError

if TYPE_CHECKING:
    from nacl.secret import SecretBox

    from pusher_core.config import Config

__all__ = ["NONCE_SIZE", "channel_key", "decrypt_event_data", "encrypt_event_data"]

NONCE_SIZE = 24
_INSTALL_HINT = "install the encryption extra: pip install 'pusher-channels[encryption]'"


def _secret_box(key: bytes) -> SecretBox:
    try:
        from nacl.secret import SecretBox
    except ImportError as exc:
        raise EncryptionError(f"encrypted channels need PyNaCl; {_INSTALL_HINT}") from exc
    return SecretBox(key)


def channel_key(master_key: bytes, channel: str) -> bytes:
    """Return the 32-byte key of one encrypted channel."""
    return hashlib.sha256(channel.encode("utf-8") + master_key).digest()


def _master_key(config: Config) -> bytes:
    master_key = config.encryption_master_key
    if master_key is None:
        raise ConfigurationError(
            "encryption_master_key_base64",
            "is required for private-encrypted- channels; set it in Config",
        )
    return master_key


def encrypt_event_data(config: Config, channel: str, plaintext: str, nonce: bytes) -> str:
    """Seal the plaintext for a channel and return the event data to send.

    Raises:
        ConfigurationError: No master key is configured.
        ValidationError: The nonce is not 24 bytes.
        EncryptionError: PyNaCl is not installed.
    """
    if not isinstance(nonce, bytes) or len(nonce) != NONCE_SIZE:
        raise ValidationError("nonce", f"must be {NONCE_SIZE} bytes")
    box = _secret_box(channel_key(_master_key(config), channel))
    sealed = box.encrypt(plaintext.encode("utf-8"), nonce)
    return json.dumps(
        {
            "nonce": b64encode(nonce).decode("ascii"),
            "ciphertext": b64encode(sealed.ciphertext).decode("ascii"),
        },
        separators=(",", ":"),
    )


def decrypt_event_data(config: Config, channel: str, data: str | bytes) -> Any:
    """Reverse `encrypt_event_data`: return the decoded JSON value the event carried.

    Raises:
        EncryptionError: The data is not a sealed event, or fails authentication.
    """
    try:
        envelope = json.loads(data)
        nonce = b64decode(envelope["nonce"], validate=True)
        ciphertext = b64decode(envelope["ciphertext"], validate=True)
    except (ValueError, KeyError, TypeError) as exc:
        raise EncryptionError("the data is not an encrypted event {nonce, ciphertext}") from exc
    box = _secret_box(channel_key(_master_key(config), channel))
    try:
        from nacl.exceptions import CryptoError

        plaintext = box.decrypt(ciphertext, nonce)
    except (CryptoError, ValueError) as exc:
        raise EncryptionError(f"decryption failed for channel {channel!r}") from exc
    return json.loads(plaintext.decode("utf-8"))
