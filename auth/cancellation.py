"""Stopping a background loop that talks to Redis, on Python 3.11.

``asyncio.wait_for``, which redis-py wraps around every socket write when a
socket timeout is set, swallows a cancellation that arrives just as the
write completes (fixed in Python 3.12, where ``wait_for`` became
``asyncio.timeout``): a loop of pings and reads stopped with ``cancel()``
went on running in most of 60 tries here. The task still says it was asked
to stop, so a loop that calls ``stop_if_cancelled()`` each turn does stop.
"""

from __future__ import annotations

import asyncio


def stop_if_cancelled() -> None:
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
