"""Locate Node.js and the peers/ folder, and define the errors the peer helpers raise."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

# tests/support/node.py -> the repository root is two folders above tests/support.
REPO_ROOT = Path(__file__).resolve().parents[2]
PEERS_DIR = REPO_ROOT / "peers"
NODE_MODULES_DIR = PEERS_DIR / "node_modules"

# Environment variables that would send a child's HTTP traffic through a proxy.
# The peers must only talk to the loopback servers the tests start.
PROXY_VARIABLES = (
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
)

# Packages from peers/package.json that the helpers load.
REQUIRED_PACKAGES = ("@soketi/soketi", "pusher", "pusher-js")


class PeerError(RuntimeError):
    """Failure of a peer process or helper server that the tests depend on."""


class PeerTimeoutError(PeerError, TimeoutError):
    """A peer did not reach the expected state within the timeout."""


def node_executable() -> str:
    """Return the path of the ``node`` binary, raising PeerError if it is not on PATH."""
    node = shutil.which("node")
    if node is None:
        raise PeerError(
            f"node was not found on PATH. Install Node.js 20, then run `npm ci` in {PEERS_DIR}."
        )
    return node


def check_node_peers() -> None:
    """Raise PeerError unless node and every package in peers/package.json are installed."""
    node_executable()
    missing = [
        name
        for name in REQUIRED_PACKAGES
        if not (NODE_MODULES_DIR / name / "package.json").is_file()
    ]
    if missing:
        raise PeerError(
            f"Node packages missing from {NODE_MODULES_DIR}: {', '.join(missing)}. "
            f"Run `npm ci` in {PEERS_DIR}."
        )


def child_environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    """Return a copy of os.environ for a peer process, without proxy settings.

    Variables starting with ``SOKETI_`` are dropped too, because soketi reads its
    whole configuration from them and a developer's own settings would change it.
    """
    environment = {
        name: value
        for name, value in os.environ.items()
        if name not in PROXY_VARIABLES and not name.startswith("SOKETI_")
    }
    environment["NO_PROXY"] = "127.0.0.1,localhost"
    environment["no_proxy"] = "127.0.0.1,localhost"
    environment.update(extra or {})
    return environment
