"""The two servers ``make bench`` compares: the product's stack and the guide's app."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
WORKERS = 2
UNLIMITED = "10000000/minute"
"""The highest limit a key may have: the benchmark measures the limiter, never its refusals."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Stack:
    base_url: str
    ca_file: Path
    state_dir: Path
    admin: tuple[str, str]

    def worker_pids(self) -> list[int]:
        pids: list[int] = []
        for pid_file in sorted((self.state_dir / "run").glob("app-*.pid")):
            pids += children(int(pid_file.read_text().split()[0]))
        return pids


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in path.read_text().split()] if path.exists() else []


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _stack_env(state_dir: Path) -> dict[str, str]:
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith(("REDIS_", "FIRST_ADMIN_", "HTTP", "APP_", "JWT_", "API_KEY"))
    }
    env.update(
        {
            "STATE_DIR": str(state_dir),
            "HTTPS_PORT": str(free_port()),
            "HTTP_PORT": str(free_port()),
            "WORKERS": str(WORKERS),
            "APP_INSTANCES": "1",
            "ENV": "production",
            "FIRST_ADMIN_USERNAME": "bench-admin",
            "FIRST_ADMIN_PASSWORD": secrets.token_urlsafe(24),
            "DEFAULT_RATE_LIMIT": UNLIMITED,
            "ANONYMOUS_RATE_LIMIT": UNLIMITED,
            "LOG_LEVEL": "WARNING",
        }
    )
    return env


def _stack_command(command: str, env: dict[str, str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "scripts.stack", command],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"stack {command} failed:\n{result.stdout}\n{result.stderr}")


@contextmanager
def product_stack(state_dir: Path) -> Iterator[Stack]:
    """``make stack`` (nginx TLS → Gunicorn, 2 workers → Redis) under ``state_dir``."""
    env = _stack_env(state_dir)
    _stack_command("up", env)
    try:
        yield Stack(
            base_url=f"https://127.0.0.1:{env['HTTPS_PORT']}",
            ca_file=state_dir / "tls" / "ca.pem",
            state_dir=state_dir,
            admin=(env["FIRST_ADMIN_USERNAME"], env["FIRST_ADMIN_PASSWORD"]),
        )
    finally:
        _stack_command("down", env)


@dataclass(frozen=True)
class Guide:
    base_url: str
    pid: int

    def worker_pids(self) -> list[int]:
        return children(self.pid)


@contextmanager
def guide_app(model: Path, log_file: Path) -> Iterator[Guide]:
    """``uvicorn bench.guide_app:app --workers 2`` on a free port, as the guide runs it."""
    port = free_port()
    env = {**os.environ, "GUIDE_MODEL": str(model)}
    with log_file.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "bench.guide_app:app", "--workers", str(WORKERS),
             "--host", "127.0.0.1", "--port", str(port)],
            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            base_url = f"http://127.0.0.1:{port}"
            _wait_until_answers(base_url + "/docs", process)
            yield Guide(base_url=base_url, pid=process.pid)
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)


def _wait_until_answers(url: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the guide's app exited with {process.returncode}")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within 60 s")
