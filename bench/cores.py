"""Split the machine's cores between the server and the subject being measured.

On a small machine nginx, the subject and the subject's event loop compete for the
same cores, and the scheduler moves them around, so a round's figure can move by a
third. Giving nginx its own core and the subject the others makes every subject,
ours, the floors and the peers alike, run under the same conditions.
"""

from __future__ import annotations

import os
from collections.abc import Callable


def _available() -> list[int]:
    if not hasattr(os, "sched_getaffinity"):
        return []
    return sorted(os.sched_getaffinity(0))


def _pin(cores: set[int]) -> Callable[[], None] | None:
    if not cores:
        return None

    def pin() -> None:
        os.sched_setaffinity(0, cores)

    return pin


def split() -> tuple[set[int], set[int]]:
    """Return (server cores, subject cores); both empty when there is one core or none."""
    cores = _available()
    if len(cores) < 2:
        return set(), set()
    return {cores[0]}, set(cores[1:])


def pin_server() -> Callable[[], None] | None:
    """Return a `preexec_fn` that keeps the server on its core, or None."""
    return _pin(split()[0])


def pin_subject() -> Callable[[], None] | None:
    """Return a `preexec_fn` that keeps a measured process off the server's core, or None."""
    return _pin(split()[1])


def describe() -> str:
    """Say how the cores were split, for the report."""
    server, subject = split()
    if not server:
        return "one core: the server and the subject share it"
    return f"nginx on core {min(server)}, each measured process on cores {sorted(subject)}"
