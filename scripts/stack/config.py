"""What the local stack is made of, read from the environment ``make stack`` runs in."""

from __future__ import annotations

import re
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from app.local_stack import RUN_DIR, SECRETS_FILE

REPO_DIR = Path(__file__).resolve().parents[2]
DEFAULT_NGINX = "/usr/sbin/nginx"
"""Debian installs nginx outside an ordinary user's PATH."""


class ConfigError(ValueError):
    """An environment variable the stack reads has an unusable value."""


@dataclass(frozen=True, slots=True)
class StackConfig:
    state_dir: Path
    https_port: int = 8443
    http_port: int = 8080
    workers: int = 2
    app_instances: int = 1
    redis_url: str | None = None
    """An existing Redis to use; ``None``: the stack runs its own."""
    redis_port: int | None = None
    start_timeout: float = 90.0
    stop_timeout: float = 30.0
    nginx_binary: str = DEFAULT_NGINX
    redis_binary: str = "redis-server"
    public_host: str = "localhost"
    """The name clients use: redirects and the app's Host say it, never the client's Host."""
    repo_dir: Path = REPO_DIR

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> StackConfig:
        state_dir = Path(environ.get("STATE_DIR") or "var")
        if not state_dir.is_absolute():
            state_dir = Path.cwd() / state_dir
        nginx = environ.get("NGINX") or shutil.which("nginx") or DEFAULT_NGINX
        return cls(
            state_dir=state_dir.resolve(),
            https_port=_port(environ, "HTTPS_PORT", 8443),
            http_port=_port(environ, "HTTP_PORT", 8080),
            workers=_positive(environ, "WORKERS", 2),
            app_instances=_positive(environ, "APP_INSTANCES", 1),
            redis_url=environ.get("REDIS_URL") or None,
            redis_port=_optional_port(environ, "REDIS_PORT"),
            start_timeout=float(environ.get("STACK_START_TIMEOUT") or 90),
            nginx_binary=nginx,
            redis_binary=environ.get("REDIS_SERVER") or "redis-server",
            public_host=_host_name(environ.get("PUBLIC_HOST") or "localhost"),
        )

    @property
    def tls_dir(self) -> Path:
        return self.state_dir / "tls"

    @property
    def run_dir(self) -> Path:
        """Pid files and the manifest of what ``up`` started."""
        return self.state_dir / RUN_DIR

    @property
    def log_dir(self) -> Path:
        return self.state_dir / "log"

    @property
    def redis_dir(self) -> Path:
        return self.state_dir / "redis"

    @property
    def nginx_dir(self) -> Path:
        """nginx's prefix: its rendered config and temp directories."""
        return self.state_dir / "nginx"

    @property
    def metrics_dir(self) -> Path:
        return self.state_dir / "prometheus"

    @property
    def secrets_file(self) -> Path:
        return self.state_dir / SECRETS_FILE

    @property
    def base_url(self) -> str:
        return f"https://localhost:{self.https_port}"


def _port(environ: Mapping[str, str], name: str, default: int) -> int:
    value = _optional_port(environ, name)
    return default if value is None else value


def _optional_port(environ: Mapping[str, str], name: str) -> int | None:
    raw = environ.get(name)
    if not raw:
        return None
    port = _integer(name, raw)
    if not 1 <= port <= 65535:
        raise ConfigError(f"{name}={raw!r} is not a TCP port")
    return port


def _positive(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name)
    if not raw:
        return default
    value = _integer(name, raw)
    if value < 1:
        raise ConfigError(f"{name}={raw!r} must be at least 1")
    return value


def _integer(name: str, raw: str) -> int:
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not an integer") from None


def _host_name(value: str) -> str:
    """A DNS name or an IP literal, nothing nginx would read as syntax."""
    if not re.fullmatch(r"[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]+\]", value):
        raise ConfigError(f"PUBLIC_HOST must be a host name, got {value!r}")
    return value
