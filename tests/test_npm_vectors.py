"""Signing and request building checked against the npm `pusher` 5.3.4 library.

The vectors in tests/vectors/npm_pusher_5.3.4.json were computed by that library
(`node peers/make_vectors.js` regenerates them). We agree with it byte for byte, with
one deliberate difference: it sends query values unescaped, which breaks on ``&``, ``#``
and spaces, while we percent-escape them on the wire and sign the same unescaped values.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest

from pusher_core import Config, Request, RequestBuilder

VECTORS = json.loads(
    (Path(__file__).parent / "vectors" / "npm_pusher_5.3.4.json").read_text(encoding="utf-8")
)
CREDENTIALS = VECTORS["credentials"]
NONCE = base64.b64decode(VECTORS["fixed_nonce_base64"])
# Cases where the npm library's wire format is wrong; the test states our rule instead.
NPM_SENDS_UNESCAPED = {"params_needing_escaping", "get_params_needing_escaping"}


def builder_at(milliseconds: int) -> RequestBuilder:
    config = Config(
        app_id=CREDENTIALS["app_id"],
        key=CREDENTIALS["key"],
        secret=CREDENTIALS["secret"],
        host="127.0.0.1",
        tls=False,
        encryption_master_key_base64=CREDENTIALS["encryption_master_key_base64"],
    )
    return RequestBuilder(config, clock=lambda: milliseconds / 1000, nonce_factory=lambda: NONCE)


def by_name(cases: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {case["name"]: case for case in cases}


QUERY_CASES = by_name(VECTORS["signed_query_strings"])
HTTP_CASES = by_name(VECTORS["http_requests"])
ENCRYPTED_CASES = by_name(VECTORS["encrypted_triggers"])


@pytest.mark.parametrize("name", sorted(QUERY_CASES))
def test_signed_query_signature_matches_npm(name: str) -> None:
    case = QUERY_CASES[name]
    given = case["input"]
    builder = RequestBuilder(
        Config(app_id="3", key=given["key"], secret=given["secret"]),
        clock=lambda: given["date_now_ms"] / 1000,
    )

    query = builder.create_signed_query_string(
        given["method"], given["path"], body=given["body"], params=given["params"]
    )

    params = dict(parse_qsl(query, keep_blank_values=True))
    assert params["auth_signature"] == case["auth_signature"]
    assert params.get("body_md5") == case["body_md5"]
    if name not in NPM_SENDS_UNESCAPED:
        assert query == case["output"]


def test_escaping_case_sends_signed_values_exactly() -> None:
    case = QUERY_CASES["params_needing_escaping"]
    given = case["input"]
    builder = RequestBuilder(
        Config(app_id="3", key=given["key"], secret=given["secret"]),
        clock=lambda: given["date_now_ms"] / 1000,
    )

    query = builder.create_signed_query_string(
        given["method"], given["path"], params=given["params"]
    )

    decoded = dict(parse_qsl(query, keep_blank_values=True))
    assert decoded["filter_by_prefix"] == "a&b#c d=e+f%g/h?i"
    assert decoded["name"] == "héllo 🎉"
    assert "#" not in query
    assert " " not in query
    assert query != case["output"]


def build_like_npm(builder: RequestBuilder, call: dict[str, Any]) -> Request:
    """Make the call the npm vector made, with this SDK's builder."""
    function, args = call["function"], call["args"]
    if function == "trigger":
        channels, event, data, *rest = args
        options = rest[0] if rest else {}
        return builder.trigger(channels, event, data, **options)
    if function == "triggerBatch":
        return builder.trigger_batch(args[0])
    if function == "sendToUser":
        return builder.send_to_user(*args)
    if function == "terminateUserConnections":
        return builder.terminate_user_connections(args[0])
    if function == "get":
        return builder.get(args[0]["path"], args[0].get("params"))
    raise AssertionError(f"no mapping for npm function {function!r}")


def assert_same_request(request: Request, expected: dict[str, Any]) -> None:
    assert request.method == expected["method"]
    assert request.target == expected["path"]
    assert request.body.decode("utf-8") == expected["body"]
    npm_headers = {name.lower(): value for name, value in expected["headers"]}
    assert request.header("Content-Type") == npm_headers.get("content-type")


@pytest.mark.parametrize("name", sorted(set(HTTP_CASES) - NPM_SENDS_UNESCAPED))
def test_request_matches_npm(name: str) -> None:
    case = HTTP_CASES[name]
    request = build_like_npm(builder_at(VECTORS["fixed_time_ms"]), case["call"])
    assert_same_request(request, case["request"])


def test_escaping_request_keeps_signature() -> None:
    case = HTTP_CASES["get_params_needing_escaping"]
    request = build_like_npm(builder_at(VECTORS["fixed_time_ms"]), case["call"])

    assert "auth_signature" not in case["request"]["path"]
    decoded = dict(parse_qsl(request.query_string))
    assert decoded["filter_by_prefix"] == "a b&c=d+é#frag"
    assert "auth_signature" in decoded


@pytest.mark.parametrize("name", sorted(ENCRYPTED_CASES))
def test_encrypted_request_matches_npm(name: str) -> None:
    case = ENCRYPTED_CASES[name]
    request = build_like_npm(builder_at(VECTORS["fixed_time_ms"]), case["call"])
    assert_same_request(request, case["request"])
