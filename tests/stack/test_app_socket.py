"""Only nginx reaches the app: a unix socket behind directory permissions, no TCP port."""

from __future__ import annotations

import os
import pwd
import stat
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from scripts.stack.config import ConfigError, StackConfig
from scripts.stack.sockets import SOCKET_DIR_NAME, app_socket, edge_gid, guard_state_dir
from tests.stack.harness import RunningStack, app_workers, run_cli, stack_environment

pytestmark = pytest.mark.stack

TCP_LISTEN = "0A"
PROBE = """
import socket, sys
sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
try:
    sock.connect(sys.argv[1])
except PermissionError:
    print("refused")
else:
    print("connected")
"""


def socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    return inodes


def tcp_listening_inodes() -> set[str]:
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == TCP_LISTEN:
                inodes.add(fields[9])
    return inodes


def test_the_app_listens_on_no_tcp_port(stack: RunningStack) -> None:
    master = int((stack.state_dir / "run" / "app-1.pid").read_text().split()[0])
    pids = [master, *app_workers(stack)]
    assert len(pids) == 3
    held = set().union(*(socket_inodes(pid) for pid in pids))
    assert held, "the app holds no socket at all"
    assert not held & tcp_listening_inodes()


def test_the_socket_is_open_to_its_owner_and_nginx_s_group_only(stack: RunningStack) -> None:
    (path,) = stack.info.app_sockets
    socket_stat = os.stat(path)
    assert stat.S_ISSOCK(socket_stat.st_mode)
    assert stat.S_IMODE(socket_stat.st_mode) == 0o660
    assert socket_stat.st_gid == edge_gid()
    directory = Path(path).parent
    assert stat.S_IMODE(directory.stat().st_mode) == 0o2750
    assert stat.S_IMODE(stack.state_dir.stat().st_mode) == 0o710
    others = [entry for entry in stack.state_dir.iterdir() if entry.name != SOCKET_DIR_NAME]
    assert others
    for entry in others:
        assert stat.S_IMODE(entry.stat().st_mode) & 0o077 == 0, entry


@pytest.mark.skipif(os.geteuid() != 0, reason="switching to another user needs root")
def test_another_local_user_cannot_connect(stack: RunningStack) -> None:
    (path,) = stack.info.app_sockets
    outsider = pwd.getpwnam("daemon")
    assert outsider.pw_gid != edge_gid()
    result = subprocess.run(
        ["/usr/bin/python3", "-c", PROBE, path],
        user=outsider.pw_uid,
        group=outsider.pw_gid,
        extra_groups=[],
        capture_output=True,
        text=True,
        check=False,
        cwd="/",
    )
    assert result.stdout.strip() == "refused", result.stderr


def test_guarding_the_state_dir_makes_everything_else_private(tmp_path: Path) -> None:
    state = tmp_path / "state"
    (state / "log").mkdir(parents=True)
    (state / "auth.db").write_text("hashes")
    (state / "auth.db").chmod(0o644)
    (state / SOCKET_DIR_NAME).mkdir()
    stale = state / SOCKET_DIR_NAME / "app-1.sock"
    import socket

    with socket.socket(socket.AF_UNIX) as left_over:
        left_over.bind(str(stale))
    config = StackConfig(state_dir=state)
    guard_state_dir(config)
    assert stat.S_IMODE((state / "auth.db").stat().st_mode) == 0o600
    assert stat.S_IMODE((state / "log").stat().st_mode) == 0o700
    assert stat.S_IMODE(state.stat().st_mode) == 0o710
    assert not stale.exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="nginx drops to nobody only when started as root")
def test_a_state_dir_nginx_cannot_reach_is_refused_before_anything_starts(
    stack_state_dirs: Callable[[str], Path],
) -> None:
    hidden = stack_state_dirs("hidden")  # mkdtemp: 0700
    result = run_cli("up", stack_environment(hidden / "state"), timeout=60)
    assert result.returncode == 1
    assert f"cannot pass through {hidden}" in result.stderr
    assert not (hidden / "state" / "run").exists()


def test_a_state_dir_too_deep_for_a_socket_path_is_refused(tmp_path: Path) -> None:
    config = StackConfig(state_dir=tmp_path / ("d" * 120))
    with pytest.raises(ConfigError, match="shorter STATE_DIR"):
        app_socket(config, 0)
