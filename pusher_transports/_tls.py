"""Name a failed certificate check the same way in every adapter."""

from __future__ import annotations

import ssl

# How many wrappers deep the search goes.
_MAX_DEPTH = 4


def certificate_failure(error: BaseException) -> str | None:
    """Describe a failed certificate check found in ``error``, its arguments or its chain.

    Returns None when the error is not one. A certificate is checked during the
    handshake, before any byte of the request is sent, so callers report it with
    ``maybe_sent=False``. HTTP libraries wrap the `ssl` error in one or two of their
    own, so the search goes a few levels deep.
    """
    pending: list[tuple[BaseException, int]] = [(error, 0)]
    while pending:
        candidate, depth = pending.pop()
        if isinstance(candidate, ssl.SSLCertVerificationError):
            reason = candidate.verify_message or candidate.reason or "rejected"
            return f"certificate verification failed: {reason}"
        if depth < _MAX_DEPTH:
            linked = [*candidate.args, candidate.__cause__, candidate.__context__]
            pending.extend((item, depth + 1) for item in linked if isinstance(item, BaseException))
    return None
