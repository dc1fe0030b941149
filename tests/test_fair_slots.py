"""The urllib3 transport serves callers waiting for a connection in arrival order."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from pusher_transports.urllib3_transport import _FairSlots


def wait_until(condition: Callable[[], bool], seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        time.sleep(0.001)


def wait_for_waiters(slots: _FairSlots, count: int) -> None:
    wait_until(lambda: len(slots._waiters) == count)


def test_waiters_get_slots_in_arrival_order() -> None:
    slots = _FairSlots(1)
    assert slots.acquire(0)
    order: list[str] = []

    def take(name: str) -> None:
        assert slots.acquire(5.0)
        order.append(name)
        slots.release()

    threads = []
    for name in ("first", "second", "third"):
        thread = threading.Thread(target=take, args=(name,))
        thread.start()
        threads.append(thread)
        wait_for_waiters(slots, len(threads))
    slots.release()
    for thread in threads:
        thread.join(5.0)

    assert order == ["first", "second", "third"]


def test_released_slot_skips_newcomer() -> None:
    slots = _FairSlots(1)
    assert slots.acquire(0)
    got_it = threading.Event()
    waiter = threading.Thread(target=lambda: slots.acquire(5.0) and got_it.set())
    waiter.start()
    wait_for_waiters(slots, 1)

    slots.release()
    # A caller arriving now finds no slot: the released one already belongs to the waiter.
    newcomer_got_one = slots.acquire(0)
    waiter.join(5.0)

    assert newcomer_got_one is False
    assert got_it.is_set()


def test_timed_out_waiter_removed() -> None:
    slots = _FairSlots(1)
    assert slots.acquire(0)

    started = time.monotonic()
    assert slots.acquire(0.05) is False
    assert time.monotonic() - started >= 0.05
    slots.release()

    assert len(slots._waiters) == 0
    assert slots.acquire(0)
    assert slots.acquire(0) is False
