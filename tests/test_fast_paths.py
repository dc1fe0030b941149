"""The shortcuts on the publishing hot path give exactly what the general code gives.

Each shortcut (a prepared HMAC key, a one-pass query escape check, a constant trigger
result, the urllib3 watchdog that holds only exchanges in flight) is checked against
the plain computation it replaces.
"""

from __future__ import annotations

import hashlib
import hmac
import socket
import time
from urllib.parse import quote

from hypothesis import given
from hypothesis import strategies as st

from pusher_core.messages import Request, Response, encode_query
from pusher_core.results import parse_json_response, parse_trigger_response
from pusher_core.signing import HmacSha256, QuerySigner, sign_query, string_to_sign
from pusher_transports._deadline import Exchange as _Exchange
from pusher_transports._deadline import Watchdog as _Watchdog

SECRET = b"fast-path-secret-5c1e"


def slow_query(params: tuple[tuple[str, str], ...]) -> str:
    return "&".join(f"{quote(key, safe=',')}={quote(value, safe=',')}" for key, value in params)


@given(key=st.binary(max_size=200), message=st.text())
def test_hmac_key_matches_hmac_module(key: bytes, message: str) -> None:
    expected = hmac.new(key, message.encode("utf-8"), hashlib.sha256).hexdigest()

    assert HmacSha256(key).hexdigest(message) == expected


def test_hmac_key_reusable_for_many_messages() -> None:
    mac = HmacSha256(SECRET)

    first = mac.hexdigest("one")
    mac.hexdigest("two")

    assert mac.hexdigest("one") == first


def test_signer_reprs_hide_secret() -> None:
    assert SECRET.decode() not in repr(QuerySigner("app-key", SECRET))
    assert repr(HmacSha256(SECRET)) == "<HmacSha256>"


def test_signer_matches_reference_signature() -> None:
    body = b'{"name":"e","data":"d","channels":["c"]}'

    query = dict(
        sign_query(
            key="k", secret=SECRET, method="POST", path="/p", params={}, body=body, timestamp=7
        )
    )

    unsigned = {name: value for name, value in query.items() if name != "auth_signature"}
    expected = hmac.new(SECRET, string_to_sign("POST", "/p", unsigned).encode(), "sha256")
    assert query["auth_signature"] == expected.hexdigest()
    assert query["body_md5"] == hashlib.md5(body).hexdigest()


@given(st.lists(st.tuples(st.text(max_size=12), st.text(max_size=12)), max_size=6))
def test_encode_query_matches_quote(pairs: list[tuple[str, str]]) -> None:
    params = tuple(pairs)

    assert encode_query(params) == slow_query(params)


def test_encode_query_escapes_separators() -> None:
    assert encode_query((("a", "b&c=d"), ("e=", "f"))) == "a=b%26c%3Dd&e%3D=f"


def test_empty_trigger_body_matches_general_parse() -> None:
    request = Request("POST", "http", "127.0.0.1", 80, "/apps/1/events", (), ())
    response = Response(status=200, body=b"{}")

    result = parse_trigger_response(response, request)

    assert dict(result.channels) == {}
    assert parse_json_response(response, request) == {}


def test_watchdog_forgets_finished_exchanges() -> None:
    watchdog = _Watchdog()
    exchanges = [_Exchange(time.monotonic() + 30) for _ in range(50)]
    try:
        for exchange in exchanges:
            watchdog.watch(exchange)
            watchdog.unwatch(exchange)

        assert len(watchdog._in_flight) == 0
    finally:
        watchdog.close()


class _FakeConnection:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock


def test_watchdog_expires_at_deadline() -> None:
    watchdog = _Watchdog()
    ours, theirs = socket.socketpair()
    long_lived = _Exchange(time.monotonic() + 60)
    short_lived = _Exchange(time.monotonic() + 0.2)
    short_lived.attach(_FakeConnection(ours))  # type: ignore[arg-type]
    try:
        # The long deadline first: the short one must still wake the thread early.
        watchdog.watch(long_lived)
        watchdog.watch(short_lived)
        ours.settimeout(5)
        started = time.monotonic()

        received = ours.recv(1)

        assert received == b""
        assert time.monotonic() - started < 4
        assert watchdog._in_flight == {long_lived}
    finally:
        watchdog.close()
        ours.close()
        theirs.close()
