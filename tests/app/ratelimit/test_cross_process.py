"""Limits hold across OS processes sharing one Redis (Gunicorn workers, several hosts)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.app.ratelimit.support import redis_keys

PROJECT_ROOT = Path(__file__).resolve().parents[3]
HITS_PER_PROCESS = 100


def start_burst(redis_url: str, limit: str, key: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.app.ratelimit.burst", redis_url, limit, key,
         str(HITS_PER_PROCESS)],
        cwd=PROJECT_ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip


def test_two_processes_admit_exactly_the_limit_between_them(redis_url: str) -> None:
    processes = [start_burst(redis_url, "50/day", "key:burst") for _ in range(2)]
    try:
        for process in processes:
            assert process.stdout is not None
            assert process.stdout.readline().strip() == "ready"
        for process in processes:  # both are connected: release them together
            assert process.stdin is not None
            process.stdin.write("go\n")
            process.stdin.flush()
        admitted = [int(process.communicate(timeout=30)[0].strip()) for process in processes]
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
    # Each process alone would admit 50: together they must still admit 50, not 100.
    assert sum(admitted) == 50
    assert any("key:burst" in key for key in redis_keys(redis_url))
