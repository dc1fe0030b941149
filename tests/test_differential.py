"""Differential tests: thousands of random inputs, checked against the npm library.

One Node process (peers/differential.js) computes what npm `pusher` 5.3.4 returns for
every case, and each result is compared with ours. We agree wherever the npm library is
right. Where it is wrong, the test states our rule instead:

- npm sends query values unescaped, so only the signatures are compared, never the
  wire form (the escaping itself is covered in test_npm_vectors.py);
- npm accepts only the exact content type ``application/json`` for webhooks, while we
  also accept parameters such as ``; charset=utf-8``;
- npm checks only a webhook's signature, while we also require the body to be a
  webhook payload (an object with an int ``time_ms`` and an ``events`` list);
- npm truncates the timestamp to a signed 32-bit int, so from 2038-01-19 on it signs
  a negative ``auth_timestamp``. The generated times stay before that date, and
  `test_timestamp_after_2038` states our rule;
- JavaScript objects put integer-like keys first, so npm reorders such keys in
  presence and user data; the generated keys are never integer-like, and
  `test_integer_like_keys_keep_order` states our rule.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
import string
import subprocess
from typing import Any

import pytest

from pusher_core import Config, RequestBuilder
from pusher_core.auth import authenticate_user, authorize_channel
from pusher_core.data import to_json
from pusher_core.encryption import channel_key
from pusher_core.webhooks import Webhook
from tests.support.peers import PEERS_DIR, check_node_peers, node_executable

SEED = 20261204
CHANNEL_ALPHABET = string.ascii_letters + string.digits + "_-=@,.;"
# Printable ASCII, then letters, symbols and emoji beyond it (no lone surrogates,
# which neither side can encode as UTF-8).
TEXT_ALPHABET = (
    string.printable + "éüßñ中文日本語ÆØÅ€£¥—\u201c\u201d\u2018\u2019\u2028\u00a0😀🎉👋🏽"
)
# User ids may not hold control characters (we reject them; npm does not check).
ID_ALPHABET = "".join(c for c in TEXT_ALPHABET if c.isprintable() or c == " ")


def text(rng: random.Random, low: int = 0, high: int = 24) -> str:
    return "".join(rng.choice(TEXT_ALPHABET) for _ in range(rng.randint(low, high)))


def channel_name(rng: random.Random, prefix: str = "") -> str:
    length = rng.randint(1, 200 - len(prefix))
    return prefix + "".join(rng.choice(CHANNEL_ALPHABET) for _ in range(length))


def socket_id(rng: random.Random) -> str:
    return f"{rng.randint(0, 10**10)}.{rng.randint(0, 10**10)}"


def credentials(rng: random.Random) -> dict[str, str]:
    key = "".join(rng.choice(string.ascii_lowercase + string.digits) for _ in range(20))
    secret = "".join(rng.choice(string.ascii_letters + string.digits) for _ in range(20))
    return {"key": key, "secret": secret}


def json_value(rng: random.Random, depth: int = 0) -> Any:
    # Floats are left out on purpose: Python writes 1.0 where JavaScript writes 1.
    kind = rng.randrange(6 if depth < 3 else 4)
    if kind == 0:
        return text(rng)
    if kind == 1:
        return rng.randint(-(2**53), 2**53)
    if kind == 2:
        return rng.choice([True, False])
    if kind == 3:
        return None
    if kind == 4:
        return [json_value(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {object_key(rng): json_value(rng, depth + 1) for _ in range(rng.randint(0, 4))}


def object_key(rng: random.Random) -> str:
    key = text(rng, 1, 8)
    return "k" + key if key.isascii() and key.isdigit() else key


def signature_case(rng: random.Random) -> dict[str, Any]:
    reserved = {"auth_key", "auth_timestamp", "auth_version", "auth_signature", "body_md5"}
    params = {}
    for _ in range(rng.randint(0, 5)):
        key = "".join(rng.choice(string.ascii_lowercase + "_") for _ in range(rng.randint(1, 10)))
        if key not in reserved:
            params[key] = text(rng)
    method = rng.choice(["GET", "POST"])
    return {
        "kind": "signature",
        **credentials(rng),
        "time_ms": rng.randint(0, (2**31 - 1) * 1000),
        "method": method,
        "path": "/apps/1/" + rng.choice(["events", "channels", "batch_events"]),
        "body": text(rng, 1, 200) if method == "POST" else None,
        "params": params,
    }


def authorize_case(rng: random.Random) -> dict[str, Any]:
    prefix = rng.choice(["private-", "presence-", "private-encrypted-"])
    case: dict[str, Any] = {
        "kind": "authorize",
        **credentials(rng),
        "master_key": base64.b64encode(rng.randbytes(32)).decode(),
        "socket_id": socket_id(rng),
        "channel": channel_name(rng, prefix),
    }
    if prefix == "presence-":
        case["channel_data"] = {"user_id": text(rng, 1, 30), "user_info": json_value(rng)}
    return case


def user_case(rng: random.Random) -> dict[str, Any]:
    user_id = "".join(rng.choice(ID_ALPHABET) for _ in range(rng.randint(1, 40)))
    user_data: dict[str, Any] = {"id": user_id}
    if rng.random() < 0.7:
        user_data["user_info"] = json_value(rng)
    if rng.random() < 0.5:
        user_data["watchlist"] = [text(rng, 1, 10) for _ in range(rng.randint(0, 3))]
    return {
        "kind": "authenticate_user",
        **credentials(rng),
        "socket_id": socket_id(rng),
        "user_data": user_data,
    }


def shared_secret_case(rng: random.Random) -> dict[str, Any]:
    return {
        "kind": "shared_secret",
        **credentials(rng),
        "master_key": base64.b64encode(rng.randbytes(32)).decode(),
        "channel": channel_name(rng, "private-encrypted-"),
    }


def webhook_case(rng: random.Random) -> dict[str, Any]:
    pair = credentials(rng)
    payload = {
        "time_ms": rng.randint(0, 2**41),
        "events": [{"name": "channel_occupied", "channel": channel_name(rng)}],
    }
    body = json.dumps(payload, ensure_ascii=rng.random() < 0.5)
    signature = hmac.new(pair["secret"].encode(), body.encode(), hashlib.sha256).hexdigest()
    mutation = rng.randrange(4)
    if mutation == 1:
        signature = signature[:-1] + ("0" if signature[-1] != "0" else "1")
    elif mutation == 2:
        body = body[:-1] + " }"
    headers = {
        "x-pusher-key": pair["key"],
        "x-pusher-signature": signature,
        "content-type": rng.choice(["application/json", "application/json; charset=utf-8"]),
    }
    return {"kind": "webhook", **pair, "headers": headers, "body": body}


def stringify_case(rng: random.Random) -> dict[str, Any]:
    return {"kind": "stringify", "key": "k", "secret": "s", "value": json_value(rng)}


GENERATORS = [
    (signature_case, 1200),
    (authorize_case, 600),
    (user_case, 400),
    (shared_secret_case, 300),
    (webhook_case, 300),
    (stringify_case, 300),
]


def npm_results(cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    check_node_peers()
    completed = subprocess.run(
        [node_executable(), str(PEERS_DIR / "differential.js")],
        input=json.dumps(cases),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    results: list[dict[str, Any]] = json.loads(completed.stdout)
    return results


@pytest.fixture(scope="module")
def cases_and_results() -> list[tuple[dict[str, Any], dict[str, Any]]]:
    rng = random.Random(SEED)
    cases = [generate(rng) for generate, count in GENERATORS for _ in range(count)]
    return list(zip(cases, npm_results(cases), strict=True))


def config_for(case: dict[str, Any]) -> Config:
    return Config(
        app_id="1",
        key=case["key"],
        secret=case["secret"],
        encryption_master_key_base64=case.get("master_key"),
    )


def ours(case: dict[str, Any]) -> dict[str, Any]:
    config = config_for(case)
    kind = case["kind"]
    if kind == "signature":
        builder = RequestBuilder(config, clock=lambda: case["time_ms"] / 1000)
        query = builder.create_signed_query_string(
            case["method"], case["path"], body=case["body"], params=case["params"]
        )
        return {"auth_signature": query.rsplit("&auth_signature=", 1)[1]}
    if kind == "authorize":
        return authorize_channel(
            config, case["socket_id"], case["channel"], case.get("channel_data")
        )
    if kind == "authenticate_user":
        return authenticate_user(config, case["socket_id"], case["user_data"])
    if kind == "shared_secret":
        key = channel_key(base64.b64decode(case["master_key"]), case["channel"])
        return {"shared_secret": base64.b64encode(key).decode()}
    if kind == "webhook":
        return {"is_valid": Webhook(config, case["headers"], case["body"]).is_valid()}
    return {"text": to_json(case["value"], None, "value")}


def expected(case: dict[str, Any], npm: dict[str, Any]) -> dict[str, Any]:
    """Return what we must return: npm's result, except where npm is wrong."""
    if case["kind"] != "webhook":
        return npm
    signed = hmac.new(case["secret"].encode(), case["body"].encode(), hashlib.sha256).hexdigest()
    signature_ok = hmac.compare_digest(signed, case["headers"]["x-pusher-signature"])
    try:
        payload = json.loads(case["body"])
        well_formed = isinstance(payload.get("time_ms"), int) and isinstance(
            payload.get("events"), list
        )
    except ValueError:
        well_formed = False
    return {"is_valid": signature_ok and well_formed}


def test_every_kind_is_covered(
    cases_and_results: list[tuple[dict[str, Any], dict[str, Any]]],
) -> None:
    kinds = {case["kind"] for case, _ in cases_and_results}
    assert kinds == {
        "signature",
        "authorize",
        "authenticate_user",
        "shared_secret",
        "webhook",
        "stringify",
    }
    assert len(cases_and_results) == sum(count for _, count in GENERATORS)


def test_npm_accepted_every_case(
    cases_and_results: list[tuple[dict[str, Any], dict[str, Any]]],
) -> None:
    errors = [(case, npm) for case, npm in cases_and_results if "error" in npm]
    assert errors == []


def test_agrees_with_npm(cases_and_results: list[tuple[dict[str, Any], dict[str, Any]]]) -> None:
    mismatches = []
    for case, npm in cases_and_results:
        if "error" in npm:
            continue
        got = ours(case)
        if got != expected(case, npm):
            mismatches.append({"case": case, "npm": npm, "ours": got})
    assert mismatches[:3] == []


def test_charset_webhooks_are_where_npm_differs(
    cases_and_results: list[tuple[dict[str, Any], dict[str, Any]]],
) -> None:
    charset_valid = [
        (case, npm)
        for case, npm in cases_and_results
        if case["kind"] == "webhook"
        and "charset" in case["headers"]["content-type"]
        and ours(case)["is_valid"]
    ]
    assert charset_valid
    assert all(npm["is_valid"] is False for _, npm in charset_valid)


def test_timestamp_after_2038() -> None:
    builder = RequestBuilder(Config(app_id="1", key="k", secret="s"), clock=lambda: 2**31 + 0.5)
    query = builder.create_signed_query_string("GET", "/apps/1/channels")
    assert "auth_timestamp=2147483648&" in query


def test_integer_like_keys_keep_order() -> None:
    config = Config(app_id="1", key="k", secret="s")
    result = authenticate_user(config, "1.2", {"id": "u", "user_info": {"z": 1, "10": 2}})
    assert result["user_data"] == '{"id":"u","user_info":{"z":1,"10":2}}'
    signed = hmac.new(b"s", f"1.2::user::{result['user_data']}".encode(), hashlib.sha256)
    assert result["auth"] == f"k:{signed.hexdigest()}"
