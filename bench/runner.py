"""Run one workload of one Python subject and print its result as one JSON line.

Usage: ``python -m bench.runner '{"subject": "ours", "workload": "build", ...}'``. The
harness starts each run in a fresh interpreter, so no run inherits another's caches,
connections or memory.
"""

from __future__ import annotations

import asyncio
import importlib
import inspect
import json
import sys


def main() -> None:
    """Run the workload that the JSON argument names and print ``{"value": ...}``."""
    spec = json.loads(sys.argv[1])
    module = importlib.import_module(f"bench.subjects.{spec['subject']}")
    workload = module.WORKLOADS[spec["workload"]]
    value = workload(spec)
    if inspect.isawaitable(value):
        value = asyncio.run(value)
    print(json.dumps({"value": value}))


if __name__ == "__main__":
    main()
