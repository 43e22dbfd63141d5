"""Bring the real stack up through ``python -m scripts.stack`` and talk to it over TLS."""

from __future__ import annotations

import json
import os
import secrets
import ssl
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import redis

from app.settings import Settings
from scripts.stack import stack_env
from scripts.stack.config import StackConfig
from scripts.stack.orchestrate import StackInfo
from scripts.stack.processes import recorded_names, running_pid, start
from scripts.stack.services import REDIS_NAME, app_name, redis_spec
from tests.support.processes import free_port

REPO = Path(__file__).resolve().parents[2]
UP_TIMEOUT = 180
STACK_VARIABLES = {
    "STATE_DIR",
    "HTTPS_PORT",
    "HTTP_PORT",
    "WORKERS",
    "APP_INSTANCES",
    "REDIS_PORT",
    "REDIS_PASSWORD",
    "REDIS_APP_PASSWORD",
    "BIND",
    "FORWARDED_ALLOW_IPS",
    "PROMETHEUS_MULTIPROC_DIR",
}


@dataclass
class RunningStack:
    state_dir: Path
    https_port: int
    http_port: int
    admin_username: str
    admin_password: str = field(repr=False)
    info: StackInfo
    env: dict[str, str] = field(repr=False)

    @property
    def base_url(self) -> str:
        return f"https://127.0.0.1:{self.https_port}"

    @property
    def ca_file(self) -> Path:
        return self.state_dir / "tls" / "ca.pem"

    @property
    def log_dir(self) -> Path:
        return self.state_dir / "log"

    def ssl_context(self) -> ssl.SSLContext:
        """Trusts the stack's development CA and nothing else."""
        return ssl.create_default_context(cafile=str(self.ca_file))

    def client(self, **kwargs: Any) -> httpx.Client:
        return httpx.Client(base_url=self.base_url, verify=self.ssl_context(), **kwargs)

    def async_client(self, **kwargs: Any) -> httpx.AsyncClient:
        kwargs.setdefault("limits", httpx.Limits(max_connections=50))
        kwargs.setdefault("timeout", 30)
        return httpx.AsyncClient(base_url=self.base_url, verify=self.ssl_context(), **kwargs)

    def pid(self, name: str) -> int:
        """The live pid of one of the stack's services: ``nginx``, ``redis``, ``app-1``..."""
        pid = running_pid(name, self.state_dir / "run")
        if pid is None:
            raise LookupError(f"{name} is not running")
        return pid

    def worker_pids(self, instance: int = 0) -> set[int]:
        """The Gunicorn workers of one app instance: its master's children."""
        return child_pids(self.pid(app_name(instance)))

    def redis_admin(self, **kwargs: Any) -> redis.Redis:
        """A client of the stack's own Redis as its operator (``default`` user)."""
        if self.info.redis_port is None:
            raise LookupError("this stack uses a Redis it did not start")
        password = stack_env.read(self.state_dir / "stack.env")["REDIS_PASSWORD"]
        return redis.Redis(port=self.info.redis_port, password=password, **kwargs)

    def start_redis(self) -> None:
        """Start the stack's Redis again after it died: same config, data directory and port."""
        if self.info.redis_port is None:
            raise LookupError("this stack uses a Redis it did not start")
        config = StackConfig.from_env(self.env)
        secrets = stack_env.read(config.secrets_file)
        spec = redis_spec(
            config,
            self.info.redis_port,
            secrets["REDIS_PASSWORD"],
            secrets["REDIS_APP_PASSWORD"],
        )
        if running_pid(REDIS_NAME, config.run_dir) is not None:
            raise RuntimeError("redis is still running")
        start(spec, config.run_dir)

    def app_log(self, instance: int = 0) -> str:
        """What one app instance's Gunicorn master and workers wrote."""
        return (self.log_dir / f"{app_name(instance)}.log").read_text(encoding="utf-8")

    def access_log(self) -> str:
        return (self.log_dir / "nginx-access.log").read_text(encoding="utf-8")

    def access_entries(self, request_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
        """nginx's JSON access-log lines for these requests, by request id.

        nginx logs a request when it finalizes it, which can be a moment after
        the client has its answer (for a refused body, only after draining
        what the client was still sending): poll a little.
        """
        wanted = set(request_ids)
        deadline = time.monotonic() + 10
        while True:
            entries = {}
            for line in self.access_log().splitlines():
                entry = json.loads(line)
                if entry["request_id"] in wanted:
                    entries[entry["request_id"]] = entry
            if len(entries) == len(wanted):
                return entries
            if time.monotonic() > deadline:
                missing = sorted(wanted - entries.keys())
                raise AssertionError(f"no access-log line for requests {missing}")
            time.sleep(0.1)


def app_workers(stack: RunningStack, instance: int = 0) -> list[int]:
    """The pids of one Gunicorn instance's workers (its master's children)."""
    master = int((stack.state_dir / "run" / f"app-{instance + 1}.pid").read_text().split()[0])
    return sorted(child_pids(master))


UNIX_CONNECTED = "03"
"""``St`` column of /proc/net/unix: SS_CONNECTED (a listening socket is 01)."""


def child_pids(pid: int) -> set[int]:
    """The processes ``pid`` started (a master's workers); empty once it is gone."""
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except FileNotFoundError:
        return set()
    return {int(child) for child in children.split()}


def connections_per_worker(stack: RunningStack, instance: int = 0) -> dict[int, int]:
    """Connections each Gunicorn worker of one instance has accepted on its socket.

    nginx only opens an upstream connection to send a request on it, so a
    worker holding one has served at least one request.
    """
    path = stack.info.app_sockets[instance]
    workers = app_workers(stack, instance)
    established = set()
    for line in Path("/proc/net/unix").read_text().splitlines()[1:]:
        fields = line.split()
        if len(fields) == 8 and fields[7] == path and fields[5] == UNIX_CONNECTED:
            established.add(fields[6])
    counts = {}
    for pid in workers:
        inodes = set()
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            target = os.readlink(fd) if fd.is_symlink() else ""
            if target.startswith("socket:["):
                inodes.add(target[len("socket:[") : -1])
        counts[pid] = len(inodes & established)
    return counts


def stack_environment(state_dir: Path, **overrides: str) -> dict[str, str]:
    """The caller's environment minus anything that would reconfigure the app or the stack."""
    app_variables = {name.upper() for name in Settings.model_fields}
    env = {
        name: value
        for name, value in os.environ.items()
        if name not in app_variables and name not in STACK_VARIABLES
    }
    env.update(
        {
            "STATE_DIR": str(state_dir),
            "HTTPS_PORT": str(free_port()),
            "HTTP_PORT": str(free_port()),
            "WORKERS": "2",
            "APP_INSTANCES": "1",
            "ENV": "production",
            "FIRST_ADMIN_USERNAME": "stack-admin",
            "FIRST_ADMIN_PASSWORD": secrets.token_urlsafe(24),
            # The stack runs in production mode, where docs are off unless asked for.
            "DOCS_ENABLED": "true",
            # Generous for anonymous callers: these tests are about per-principal limits.
            "ANONYMOUS_RATE_LIMIT": "100000/minute",
            # Likewise for failed authentications: revocation tests send many refused keys.
            "AUTH_FAILURE_LIMIT": "100000/minute",
        }
    )
    env.update(overrides)
    return env


def run_cli(command: str, env: dict[str, str], timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "scripts.stack", command],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def start_stack(env: dict[str, str]) -> RunningStack:
    """``up``; on any failure, ``down`` before raising so nothing is left running."""
    state_dir = Path(env["STATE_DIR"])
    try:
        result = run_cli("up", env, UP_TIMEOUT)
    except subprocess.TimeoutExpired:
        stop_stack(env)
        raise
    if result.returncode != 0:
        stop_stack(env)
        raise RuntimeError(f"stack up failed:\n{result.stdout}\n{result.stderr}")
    return RunningStack(
        state_dir=state_dir,
        https_port=int(env["HTTPS_PORT"]),
        http_port=int(env["HTTP_PORT"]),
        admin_username=env["FIRST_ADMIN_USERNAME"],
        admin_password=env["FIRST_ADMIN_PASSWORD"],
        info=StackInfo.load(state_dir / "run"),
        env=env,
    )


def restart_stack(stack: RunningStack) -> None:
    """``down``, then ``up`` on the same state directory; ``stack`` then describes the new run."""
    stop_stack(stack.env)
    stack.info = start_stack(stack.env).info


@contextmanager
def running_stack(env: dict[str, str]) -> Iterator[RunningStack]:
    """A stack up for the ``with`` block, stopped whatever happens in it."""
    running = start_stack(env)
    try:
        yield running
    finally:
        stop_stack(env)


def stop_stack(env: dict[str, str]) -> None:
    """``down``, then check that nothing recorded is still alive."""
    result = run_cli("down", env, 120)
    run_dir = Path(env["STATE_DIR"]) / "run"
    survivors = [name for name in recorded_names(run_dir) if running_pid(name, run_dir)]
    if result.returncode != 0 or survivors:
        raise RuntimeError(f"stack down left {survivors}:\n{result.stdout}\n{result.stderr}")
