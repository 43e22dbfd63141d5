"""``up``: Redis → Gunicorn instance(s) → nginx, then wait for /readyz; ``down``: the reverse.

``up`` either returns with every piece answering, or stops whatever it had
started and raises with the end of each log. ``down`` stops only what the
pid files under ``run/`` name, each verified to still be that process.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

from app.local_stack import APP_REDIS_USER, MANIFEST, loopback_redis_url, redis_address
from scripts.stack import stack_env
from scripts.stack.config import StackConfig
from scripts.stack.files import tail, write_public
from scripts.stack.nginx_conf import TemplateError, local_values, render
from scripts.stack.pki import ensure_dev_pki
from scripts.stack.processes import (
    ServiceSpec,
    Started,
    recorded_names,
    running_pid,
    start,
    stop,
)
from scripts.stack.readiness import NotReady, http_ok, redis_answers, unix_http_ok, wait_for
from scripts.stack.services import (
    NGINX_NAME,
    REDIS_NAME,
    app_name,
    app_spec,
    nginx_argv,
    nginx_spec,
    redis_spec,
    stop_signal,
)
from scripts.stack.sockets import app_socket, check_reachable, guard_state_dir, hand_to_edge

PRIVATE_UMASK = 0o077
STOP_TIMEOUTS = {NGINX_NAME: 15.0, REDIS_NAME: 15.0}


class StackError(RuntimeError):
    """The stack could not be brought up (everything started was stopped again)."""


@dataclass(frozen=True, slots=True)
class StackInfo:
    """What ``up`` started, as recorded in ``run/stack.json``."""

    base_url: str
    https_port: int
    http_port: int
    app_sockets: list[str]
    redis_port: int | None
    ca_certificate: str
    log_dir: str
    services: list[str]
    redis_address: str | None = None
    """Which Redis the workers keep the store in (``app.local_stack.redis_address``: no
    credentials), so the shell commands can tell whether a ``REDIS_URL`` names it."""

    @classmethod
    def load(cls, run_dir: Path) -> StackInfo:
        return cls(**json.loads((run_dir / MANIFEST).read_text(encoding="utf-8")))


def up(config: StackConfig, environ: Mapping[str, str]) -> StackInfo:
    running = [name for name in recorded_names(config.run_dir) if running_pid(name, config.run_dir)]
    if running:
        raise StackError(f"already running: {', '.join(running)} (stop it with `make stack-down`)")
    sockets = [app_socket(config, index) for index in range(config.app_instances)]
    check_reachable(config)
    # Everything the stack writes (Redis's AOF, metrics, keys, logs) is the
    # owner's alone; nginx's workers get only the socket directory's group.
    os.umask(PRIVATE_UMASK)
    for directory in (config.state_dir, config.run_dir, config.log_dir):
        directory.mkdir(parents=True, exist_ok=True)
    guard_state_dir(config)

    tls = ensure_dev_pki(config.tls_dir)
    secrets = stack_env.load_or_create(config.secrets_file, environ)
    base_env = {**environ, **secrets}
    deadline = time.monotonic() + config.start_timeout
    started: list[Started] = []

    def launch(spec: ServiceSpec) -> Started:
        process = start(spec, config.run_dir)
        started.append(process)
        return process

    def wait(what: str, check: Callable[[], bool]) -> None:
        remaining = max(deadline - time.monotonic(), 0.0)
        wait_for(what, check, remaining, started, config.run_dir)

    try:
        redis_port: int | None = None
        if config.redis_url:
            url = config.redis_url
        else:
            redis_port = config.redis_port or _free_port()
            admin_url = loopback_redis_url(redis_port, base_env["REDIS_PASSWORD"])
            url = loopback_redis_url(redis_port, base_env["REDIS_APP_PASSWORD"], APP_REDIS_USER)
            launch(
                redis_spec(
                    config, redis_port, base_env["REDIS_PASSWORD"], base_env["REDIS_APP_PASSWORD"]
                )
            )
            wait(f"redis on port {redis_port}", redis_answers(admin_url))

        for index, path in enumerate(sockets):
            launch(app_spec(config, index, path, base_env, url))
        for index, path in enumerate(sockets):
            wait(f"{app_name(index)} /healthz on {path}", unix_http_ok(path, "/healthz"))
            hand_to_edge(path)

        conf = render(local_values(config, tls, sockets))
        nginx = nginx_spec(config, conf)
        _check_nginx_config(config, nginx)
        launch(nginx)
        readyz = f"https://127.0.0.1:{config.https_port}/readyz"
        wait(f"{readyz} through nginx", http_ok(readyz, tls.ca_certificate))
    except BaseException as error:
        report = _log_report(config, started)
        for process in reversed(started):
            _stop(config, process.name)
        if isinstance(error, NotReady | TemplateError | subprocess.CalledProcessError | OSError):
            raise StackError(f"{error}\n{report}") from error
        raise

    info = StackInfo(
        base_url=config.base_url,
        https_port=config.https_port,
        http_port=config.http_port,
        app_sockets=[str(path) for path in sockets],
        redis_port=redis_port,
        ca_certificate=str(tls.ca_certificate),
        log_dir=str(config.log_dir),
        services=[process.name for process in started],
        redis_address=redis_address(url),
    )
    write_public(config.run_dir / MANIFEST, json.dumps(asdict(info), indent=2).encode())
    return info


def down(config: StackConfig) -> list[str]:
    """Stop what ``up`` started (nginx first, Redis last); the names actually stopped."""
    names = recorded_names(config.run_dir)
    stopped = [name for name in _shutdown_order(names) if _stop(config, name)]
    (config.run_dir / MANIFEST).unlink(missing_ok=True)
    return stopped


def status(config: StackConfig) -> dict[str, int | None]:
    return {name: running_pid(name, config.run_dir) for name in recorded_names(config.run_dir)}


def _stop(config: StackConfig, name: str) -> bool:
    timeout = STOP_TIMEOUTS.get(name, config.stop_timeout)
    return stop(name, config.run_dir, stop_signal(name), timeout)


def _shutdown_order(names: list[str]) -> list[str]:
    def rank(name: str) -> tuple[int, str]:
        if name == NGINX_NAME:
            return (0, name)
        if name == REDIS_NAME:
            return (2, name)
        return (1, name)

    return sorted(names, key=rank)


def _free_port() -> int:
    """A port the kernel hands out now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _check_nginx_config(config: StackConfig, spec: ServiceSpec) -> None:
    conf = config.nginx_dir / "nginx.conf"
    result = subprocess.run(  # noqa: S603 (argv built from the stack's config)
        nginx_argv(config, conf, "-t", "-q"),
        capture_output=True,
        text=True,
        check=False,
        env=spec.env,
    )
    if result.returncode != 0:
        raise NotReady(f"nginx rejected {conf}:\n{result.stderr}{result.stdout}")


def _log_report(config: StackConfig, started: list[Started]) -> str:
    logs = [process.log_file for process in started]
    logs.append(config.log_dir / "nginx-error.log")
    sections = [f"--- {log} (last lines) ---\n{tail(log)}" for log in dict.fromkeys(logs)]
    return "\n".join(sections)


def print_info(info: StackInfo) -> None:
    sys.stdout.write(
        f"stack up: {info.base_url} (http://localhost:{info.http_port} redirects)\n"
        f"  trust:  {info.ca_certificate}\n"
        f"  logs:   {info.log_dir}\n"
        f"  apps:   {', '.join(info.app_sockets)}\n"
        "  stop:   make stack-down\n"
    )
