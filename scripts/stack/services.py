"""The three programs of the stack, as command lines with their environments."""

from __future__ import annotations

import signal
import sys
from collections.abc import Mapping
from pathlib import Path

from app.local_stack import APP_REDIS_USER
from app.settings import UNIX_SOCKET_PEER
from scripts.stack.config import StackConfig
from scripts.stack.files import write_private, write_public
from scripts.stack.nginx_conf import TEMP_KINDS
from scripts.stack.processes import ServiceSpec

NGINX_NAME = "nginx"
REDIS_NAME = "redis"
PROXY_PEER = UNIX_SOCKET_PEER
"""nginx reaches the app over its socket: the only peer whose forwarded headers are believed."""


def stop_signal(name: str) -> signal.Signals:
    """The signal that asks ``name`` for a graceful shutdown.

    nginx finishes in-flight requests on QUIT (TERM would drop them); Gunicorn
    and Redis shut down gracefully on TERM.
    """
    return signal.SIGQUIT if name == NGINX_NAME else signal.SIGTERM


def app_name(index: int) -> str:
    return f"app-{index + 1}"


APP_REDIS_RIGHTS = (
    # Only the app's own keys and change channel, and only what it runs: reads,
    # writes, its scripts (which call TIME), pub/sub, MULTI/EXEC, PING. Nothing
    # @dangerous or @admin: no FLUSHALL, KEYS, CONFIG, DEBUG, SHUTDOWN, ACL.
    "resetkeys ~hapi:* ~ratelimit:* resetchannels &hapi:* "
    "-@all +@read +@write +@scripting +@pubsub +@connection +@transaction +time "
    "-@dangerous -@admin"
)
"""What the app's Redis user may do (``redis_spec``; the compose file says the same)."""


def redis_spec(config: StackConfig, port: int, password: str, app_password: str) -> ServiceSpec:
    """redis-server with AOF persistence, reachable on loopback with a password only.

    ``default`` (the operator's user, ``REDIS_PASSWORD``) may do anything; the
    app connects as ``app`` (``REDIS_APP_PASSWORD``) with ``APP_REDIS_RIGHTS``.

    The settings go in a 0600 file rather than on the command line, where
    every local user could read the password in the process list.

    ``appendfsync always``: Redis answers a write only once it is on disk.
    A new key's secret is shown once, in the 201 that follows the write; with
    ``everysec`` a power loss or kernel crash in the next second would keep
    the secret in the customer's hands and lose the key (a killed Redis alone
    loses nothing either way: the kernel still holds what it wrote). Redis
    7.0 has no ``WAITAOF`` to ask this of credential writes alone, and a
    replica's ``WAIT`` needs a replica. Measured on this machine's disk:
    ``redis-benchmark -t set`` from 20 clients went from 110,000 to 40,000
    writes/s (fsyncs are shared by the writes of one event-loop turn), far
    above what the app sends it (one rate-limit write per request); the whole
    stack under wrk (64 connections, ``/v1/predict``, three alternating 6 s
    rounds of each) served a median 884 requests/s with ``everysec`` and 947
    with ``always``: no cost beyond the noise.
    """
    config.redis_dir.mkdir(parents=True, exist_ok=True)
    conf = config.redis_dir / "redis.conf"
    lines = [
        "bind 127.0.0.1",
        f"port {port}",
        "protected-mode yes",
        "daemonize no",
        f'dir "{config.redis_dir}"',
        "appendonly yes",
        "appendfsync always",
        'logfile ""',
        f"requirepass {password}",
        f"user {APP_REDIS_USER} on >{app_password} {APP_REDIS_RIGHTS}",
    ]
    write_private(conf, ("\n".join(lines) + "\n").encode())
    return ServiceSpec(
        name=REDIS_NAME,
        argv=[config.redis_binary, str(conf)],
        log_file=config.log_dir / "redis.log",
        cwd=config.redis_dir,
        env={"PATH": "/usr/local/bin:/usr/bin:/bin"},
    )


def app_spec(
    config: StackConfig,
    index: int,
    socket: Path,
    base_env: Mapping[str, str],
    redis: str,
) -> ServiceSpec:
    """One Gunicorn instance (its master and ``WORKERS`` Uvicorn workers) on ``socket``."""
    name = app_name(index)
    metrics_dir = config.metrics_dir / name
    metrics_dir.mkdir(parents=True, exist_ok=True)
    env = dict(base_env)
    env.setdefault("ENV", "production")
    env.update(
        {
            "BIND": f"unix:{socket}",
            "WORKERS": str(config.workers),
            "REDIS_URL": redis,
            "TRUSTED_PROXIES": PROXY_PEER,
            "FORWARDED_ALLOW_IPS": "",
            "STATE_DIR": str(config.state_dir),
            "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir),
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.pop("REDIS_PASSWORD", None)
    env.pop("REDIS_APP_PASSWORD", None)
    argv = [
        sys.executable,
        "-m",
        "gunicorn",
        "--config",
        str(config.repo_dir / "gunicorn.conf.py"),
        "app.main:create_app()",
    ]
    return ServiceSpec(
        name=name,
        argv=argv,
        log_file=config.log_dir / f"{name}.log",
        cwd=config.repo_dir,
        env=env,
    )


def nginx_spec(config: StackConfig, rendered_conf: str) -> ServiceSpec:
    """nginx in the foreground, with every path under ``$STATE_DIR`` (no system paths)."""
    for kind in TEMP_KINDS:
        (config.nginx_dir / "temp" / kind).mkdir(parents=True, exist_ok=True)
    config.log_dir.mkdir(parents=True, exist_ok=True)
    conf = config.nginx_dir / "nginx.conf"
    write_public(conf, rendered_conf.encode())
    return ServiceSpec(
        name=NGINX_NAME,
        argv=nginx_argv(config, conf),
        log_file=config.log_dir / "nginx.log",
        cwd=config.nginx_dir,
        env={"PATH": "/usr/sbin:/usr/bin:/bin"},
    )


def nginx_argv(config: StackConfig, conf: Path, *extra: str) -> list[str]:
    return [
        config.nginx_binary,
        "-p",
        f"{config.nginx_dir}/",
        "-c",
        str(conf),
        "-e",
        str(config.log_dir / "nginx-error.log"),
        *extra,
    ]
