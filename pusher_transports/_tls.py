"""Name a failed certificate check the same way in every adapter."""

from __future__ import annotations

import ssl


def certificate_failure(error: BaseException) -> str | None:
    """Describe a failed certificate check found in ``error`` or its arguments and chain.

    Returns None when the error is not one. A certificate is checked during the
    handshake, before any byte of the request is sent, so callers report it with
    ``maybe_sent=False``.
    """
    candidates = [error, *error.args, error.__cause__, error.__context__]
    for candidate in candidates:
        if isinstance(candidate, ssl.SSLCertVerificationError):
            reason = candidate.verify_message or candidate.reason or "rejected"
            return f"certificate verification failed: {reason}"
    return None
