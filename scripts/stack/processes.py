"""Start long-lived processes detached from the caller, and stop exactly those.

``make stack`` returns while the services keep running, so each one is
started in a session of its own and recorded in ``run/<name>.pid``: the pid
on the first line, the kernel's start time of that pid on the second. A pid
is only ever signalled while both still match, so a pid the kernel has since
handed to an unrelated process is never touched.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from scripts.stack.files import write_public


@dataclass(frozen=True, slots=True)
class ServiceSpec:
    name: str
    argv: list[str]
    log_file: Path
    cwd: Path
    env: dict[str, str] = field(default_factory=dict, repr=False)


@dataclass(frozen=True, slots=True)
class Started:
    name: str
    pid: int
    log_file: Path


def start(spec: ServiceSpec, run_dir: Path) -> Started:
    """Launch ``spec`` in its own session with output appended to its log file."""
    run_dir.mkdir(parents=True, exist_ok=True)
    spec.log_file.parent.mkdir(parents=True, exist_ok=True)
    with spec.log_file.open("ab") as log:
        # argv comes from the stack's own service definitions, never from a request.
        process = subprocess.Popen(  # noqa: S603
            spec.argv,
            cwd=spec.cwd,
            env=spec.env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    started_at = _start_time(process.pid)
    write_public(_pid_file(run_dir, spec.name), f"{process.pid}\n{started_at}\n".encode())
    return Started(spec.name, process.pid, spec.log_file)


def running_pid(name: str, run_dir: Path) -> int | None:
    """The pid recorded for ``name`` if that very process is still alive."""
    record = _read_pid_file(_pid_file(run_dir, name))
    if record is None:
        return None
    pid, started_at = record
    if _start_time(pid) != started_at or _is_zombie(pid):
        return None
    return pid


def recorded_names(run_dir: Path) -> list[str]:
    return sorted(path.stem for path in run_dir.glob("*.pid"))


def stop(name: str, run_dir: Path, stop_signal: signal.Signals, timeout: float) -> bool:
    """Ask ``name`` to stop, force it after ``timeout``; ``True`` if it was running."""
    pid_file = _pid_file(run_dir, name)
    pid = running_pid(name, run_dir)
    if pid is None:
        pid_file.unlink(missing_ok=True)
        return False
    _signal(pid, stop_signal)
    if not _wait_gone(pid, timeout):
        _kill_group(pid)
        _wait_gone(pid, 5.0)
    # Children that outlived their leader (its process group) are ours too.
    _kill_group(pid)
    pid_file.unlink(missing_ok=True)
    return True


def _pid_file(run_dir: Path, name: str) -> Path:
    return run_dir / f"{name}.pid"


def _read_pid_file(path: Path) -> tuple[int, int] | None:
    try:
        pid_line, started_line = path.read_text(encoding="utf-8").split()[:2]
        return int(pid_line), int(started_line)
    except (OSError, ValueError):
        return None


def _stat_fields(pid: int) -> list[str] | None:
    """Fields of /proc/<pid>/stat after the command name (which may hold spaces)."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    return raw.rpartition(")")[2].split()


def _start_time(pid: int) -> int | None:
    fields = _stat_fields(pid)
    # Field 22 of stat(5), counted from 1 with pid and comm as 1 and 2.
    return int(fields[19]) if fields else None


def _is_zombie(pid: int) -> bool:
    fields = _stat_fields(pid)
    return fields is None or fields[0] in {"Z", "X"}


def _signal(pid: int, sig: signal.Signals) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, sig)


def _kill_group(pid: int) -> None:
    """SIGKILL the process group ``pid`` leads (started with its own session).

    While any member lives, the kernel never reuses the group's id as a pid,
    so every member is a descendant of what we started.
    """
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _reap(pid)
        if _is_zombie(pid):
            return True
        time.sleep(0.05)
    return _is_zombie(pid)


def _reap(pid: int) -> None:
    """Collect the exit status when the caller is the parent (a failed ``up`` rolling back)."""
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
