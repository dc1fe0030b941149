"""Installing what the benchmarks need and the SDK does not: nginx and the Python peers.

The official Python package goes into its own virtual environment, bench/.venv-peers,
so it never becomes a dependency of the SDK or shares its environment.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from bench.nginx import nginx_executable

BENCH_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCH_DIR.parent
PEERS_VENV = BENCH_DIR / ".venv-peers"
PEERS_PYTHON = PEERS_VENV / "bin" / "python"
# The official package, its aiohttp backend's and encryption's dependencies, and
# matplotlib for the chart.
PEERS_REQUIREMENTS = ("pusher==3.3.4", "aiohttp>=3.9,<4", "PyNaCl>=1.5", "matplotlib>=3.8")
NODE_LIBRARY = REPO_ROOT / "peers" / "node_modules" / "pusher" / "package.json"


def _run(command: list[str]) -> None:
    print("bench: running", " ".join(command), flush=True)
    subprocess.run(command, check=True)


def ensure_nginx() -> None:
    """Install the Debian package nginx-light unless an nginx binary is present."""
    if nginx_executable() is not None:
        return
    prefix = [] if os.geteuid() == 0 else ["sudo"]
    environment = {"DEBIAN_FRONTEND": "noninteractive"}
    os.environ.update(environment)
    _run([*prefix, "apt-get", "update", "-qq"])
    _run([*prefix, "apt-get", "install", "-y", "-qq", "nginx-light"])
    if nginx_executable() is None:
        raise RuntimeError("nginx-light was installed but no nginx binary was found")


def ensure_peers_venv() -> Path:
    """Create bench/.venv-peers with the official package and matplotlib; return its python."""
    stamp = PEERS_VENV / ".installed-from"
    wanted = "\n".join(PEERS_REQUIREMENTS)
    if PEERS_PYTHON.exists() and stamp.exists() and stamp.read_text() == wanted:
        return PEERS_PYTHON
    if not PEERS_PYTHON.exists():
        _run([sys.executable, "-m", "venv", str(PEERS_VENV)])
    _run([str(PEERS_PYTHON), "-m", "pip", "install", "--quiet", *PEERS_REQUIREMENTS])
    stamp.write_text(wanted)
    return PEERS_PYTHON


def node_executable() -> str:
    """Return the node binary, or raise telling how to install the Node peers."""
    node = shutil.which("node")
    if node is None or not NODE_LIBRARY.exists():
        raise RuntimeError("node or peers/node_modules is missing: run scripts/setup")
    return node
