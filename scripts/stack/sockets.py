"""Where nginx reaches the app: a unix socket per instance that only nginx's workers may open.

A TCP port on loopback is open to every local process, which could then
talk to the app directly and name its own client in ``X-Forwarded-For``.
A socket file is guarded by the file system instead:

- ``$STATE_DIR`` is ``0710`` and belongs to nginx's worker group, which may
  pass through it but list nothing; everything else directly inside it is
  private to the owner (directories ``0700``, files ``0600``).
- ``$STATE_DIR/sockets`` is ``2750`` with the same group (set-group-id, so
  every socket made in it belongs to that group too).
- Gunicorn creates each socket ``0660`` (``umask`` in gunicorn.conf.py) but
  gives it its own group, so ``hand_to_edge`` sets the group once it exists,
  before nginx starts.

So the owner (Gunicorn) and nginx's workers can connect; any other local
user is refused by the kernel at the directory.
"""

from __future__ import annotations

import os
import pwd
import stat
from pathlib import Path

from scripts.stack.config import ConfigError, StackConfig

SOCKET_DIR_NAME = "sockets"
STATE_DIR_MODE = 0o710
SOCKET_DIR_MODE = 0o2750
MAX_SOCKET_PATH = 107
"""``sun_path`` holds 108 bytes, the last one a NUL."""


def edge_user() -> tuple[str, int] | None:
    """The (user, gid) nginx's workers drop to: ``nobody`` when started as root, else ``None``."""
    if os.geteuid() != 0:
        return None
    nobody = pwd.getpwnam("nobody")
    return nobody.pw_name, nobody.pw_gid


def check_reachable(config: StackConfig) -> None:
    """Refuse a ``$STATE_DIR`` that nginx's workers could not walk down to.

    Started as root, nginx's workers are ``nobody``: every directory above
    ``$STATE_DIR`` must let them pass (a home directory of mode 0700 does
    not), or every request would fail with a 502.
    """
    user = edge_user()
    if user is None:
        return
    nobody = pwd.getpwnam(user[0])
    for directory in reversed(config.state_dir.parents):
        info = directory.stat()
        if info.st_uid == nobody.pw_uid:
            allowed = info.st_mode & stat.S_IXUSR
        elif info.st_gid == nobody.pw_gid:
            allowed = info.st_mode & stat.S_IXGRP
        else:
            allowed = info.st_mode & stat.S_IXOTH
        if not allowed:
            raise ConfigError(
                f"nginx's workers run as {user[0]} and cannot pass through {directory} "
                f"(mode {stat.S_IMODE(info.st_mode):o}) to reach the app's socket; "
                "choose a STATE_DIR outside it (e.g. under /var/lib or /srv)"
            )


def edge_gid() -> int:
    """The group nginx's workers run in (the invoking user's own without root)."""
    user = edge_user()
    return user[1] if user else os.getgid()


def socket_dir(config: StackConfig) -> Path:
    return config.state_dir / SOCKET_DIR_NAME


def app_socket(config: StackConfig, index: int) -> Path:
    path = socket_dir(config) / f"app-{index + 1}.sock"
    if len(os.fsencode(path)) > MAX_SOCKET_PATH:
        raise ConfigError(
            f"STATE_DIR is too deep for a unix socket path ({path} is over "
            f"{MAX_SOCKET_PATH} bytes); choose a shorter STATE_DIR"
        )
    return path


def hand_to_edge(socket: Path) -> None:
    """Let nginx's workers (and only them, besides the owner) connect to ``socket``."""
    os.chown(socket, -1, edge_gid())


def guard_state_dir(config: StackConfig) -> None:
    """Let nginx's workers through ``$STATE_DIR`` to its sockets, and nowhere else."""
    state_dir = config.state_dir
    group = edge_gid()
    for entry in state_dir.iterdir():
        if entry.name == SOCKET_DIR_NAME or entry.is_symlink():
            continue
        entry.chmod(0o700 if entry.is_dir() else 0o600)
    sockets = socket_dir(config)
    sockets.mkdir(exist_ok=True)
    for stale in sockets.iterdir():
        if stat.S_ISSOCK(stale.lstat().st_mode):
            stale.unlink()
    for directory, mode in ((sockets, SOCKET_DIR_MODE), (state_dir, STATE_DIR_MODE)):
        os.chown(directory, -1, group)
        directory.chmod(mode)
