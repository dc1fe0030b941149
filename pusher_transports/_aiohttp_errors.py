"""Keep signed URLs out of the aiohttp errors that our errors chain to.

A signed query carries ``auth_signature``, and anyone who reads it can replay the
request until its timestamp expires. aiohttp puts the full URL into the request
details of its response errors, and their text quotes it, so a traceback or an error
tracker would show it. The transports keep aiohttp's error as the cause of theirs,
for debugging, but with the query removed.
"""

from __future__ import annotations

import aiohttp


def strip_signed_query(exc: BaseException) -> None:
    """Remove the query from the URLs held by ``exc`` and the errors chained to it.

    The error is changed in place, since it is the one our error chains to.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, aiohttp.ClientResponseError):
            info = current.request_info
            current.request_info = info._replace(
                url=info.url.with_query(None), real_url=info.real_url.with_query(None)
            )
            current.args = (current.request_info, current.history)
        current = current.__cause__ or current.__context__
