"""Entry point for tests that run against the real peers in peers/.

The peers are soketi 1.6.1 (a Pusher Channels server), pusher-js 8.6.0 (the
browser client, run under Node) and the npm ``pusher`` 5.3.4 server library,
which serves as the reference implementation. Run ``npm ci`` in peers/ first.
"""

from __future__ import annotations

import json
import subprocess
from typing import Any, cast

from tests.support.http_server import (
    LoopbackHTTPServer,
    RecordedRequest,
    reply_json,
    run_http_server,
)
from tests.support.node import (
    PEERS_DIR,
    REPO_ROOT,
    PeerError,
    PeerTimeoutError,
    check_node_peers,
    child_environment,
    node_executable,
)
from tests.support.soketi import SoketiServer, free_port, run_soketi
from tests.support.subscriber import Subscriber

__all__ = [
    "PEERS_DIR",
    "REPO_ROOT",
    "LoopbackHTTPServer",
    "PeerError",
    "PeerTimeoutError",
    "RecordedRequest",
    "SoketiServer",
    "Subscriber",
    "check_node_peers",
    "child_environment",
    "free_port",
    "node_executable",
    "npm_rest",
    "npm_trigger",
    "reply_json",
    "run_http_server",
    "run_soketi",
    "subscriber_config",
]

NPM_REST_SCRIPT = PEERS_DIR / "npm_rest.js"


def subscriber_config(
    server: SoketiServer, channels: list[str] | tuple[str, ...] = (), **options: Any
) -> dict[str, Any]:
    """Build a peers/subscriber.js config that connects to ``server``.

    ``options`` adds or overrides config fields such as channel_auth_endpoint,
    user_auth_endpoint, signin and client_events.
    """
    config: dict[str, Any] = {
        "host": server.host,
        "port": server.port,
        "key": server.key,
        "channels": list(channels),
    }
    config.update(options)
    return config


def npm_rest(
    server: SoketiServer,
    call: str,
    *,
    check: bool = True,
    timeout: float = 30.0,
    **fields: Any,
) -> dict[str, Any]:
    """Run one REST call with the npm pusher library against ``server``.

    ``call`` and ``fields`` are the config fields that peers/npm_rest.js
    documents. Returns ``{"status": int, "body": str}``, or with ``check=False``
    whatever npm_rest.js printed, which for a failure is ``{"error", "status",
    "body"}``. With ``check=True`` it raises PeerError when the request fails,
    when the status is 400 or more, or when the body is a soketi error object,
    because soketi 1.6.1 sends its rejections with status 200.
    """
    config = {
        "host": server.host,
        "port": server.port,
        "app_id": server.app_id,
        "key": server.key,
        "secret": server.secret,
        "call": call,
        **fields,
    }
    check_node_peers()
    completed = subprocess.run(
        [node_executable(), str(NPM_REST_SCRIPT), json.dumps(config)],
        cwd=PEERS_DIR,
        env=child_environment(),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        encoding="utf-8",
        timeout=timeout,
        check=False,
    )
    failure = (
        f"npm_rest.js {call} exited with status {completed.returncode}.\n"
        f"stdout: {completed.stdout}\nstderr: {completed.stderr}"
    )
    try:
        result = json.loads(completed.stdout)
    except json.JSONDecodeError:
        raise PeerError(failure) from None
    if check and (completed.returncode != 0 or _is_soketi_error(result.get("body"))):
        raise PeerError(failure)
    return cast(dict[str, Any], result)


def _is_soketi_error(body: str | None) -> bool:
    try:
        value = json.loads(body or "")
    except json.JSONDecodeError:
        return False
    return isinstance(value, dict) and "error" in value


def npm_trigger(
    server: SoketiServer,
    channels: str | list[str],
    event: str,
    data: Any,
    params: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Trigger an event on ``server`` with the npm pusher library's ``trigger``.

    ``data`` goes to the library unchanged, so a string is sent as is and any
    other value is JSON-encoded by the library.
    """
    fields: dict[str, Any] = {"channels": channels, "event": event, "data": data}
    if params is not None:
        fields["params"] = params
    return npm_rest(server, "trigger", **fields)
