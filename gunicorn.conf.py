"""Gunicorn settings for the API behind nginx (container CMD and ``make stack``).

Every value can be changed through the environment the deployment already
sets; nothing here is specific to one machine.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

# Uvicorn's own ``uvicorn.workers`` module is deprecated in favour of this package.
worker_class = "app.worker.Worker"


def _cpu_count() -> int:
    """CPUs this process may run on (a container's cpuset, not the host's total)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


# Inference is CPU-bound and BLAS is pinned to one thread per worker, so one
# worker per CPU; more would only fight over the same cores.
workers = int(os.environ.get("WORKERS") or _cpu_count())

_host = os.environ.get("HOST", "127.0.0.1")
_port = os.environ.get("PORT", "8000")
bind = [os.environ.get("BIND") or f"{_host}:{_port}"]

# A unix socket (BIND=unix:...) is created 0660: its owner and its group
# (nginx's workers, see scripts/stack/sockets.py) may connect, nobody else.
# Gunicorn applies this umask to the socket file only.
umask = 0o117

# No preload_app: each worker imports the app after fork, so every worker
# opens its own Redis connections in the app's lifespan instead of sharing
# sockets inherited from the master.
preload_app = False

# A worker silent for this long is killed and replaced.
timeout = int(os.environ.get("GUNICORN_TIMEOUT") or 30)
# On SIGTERM, in-flight requests get this long to finish.
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT") or 20)
# Longer than nginx's upstream keepalive_timeout (60s), so nginx always closes
# an idle connection first and never sends a request on one we just closed.
keepalive = 65

# Worker recycling is off unless GUNICORN_MAX_REQUESTS is set (the jitter
# then keeps workers from restarting together). A recycled Uvicorn worker
# closes its idle keep-alive connections while nginx may be writing a request
# to one of them, and that request fails with a 502 (gunicorn#2567). Measured
# here with recycling every ~100 requests under 16 concurrent clients: 3 of
# 1,500 requests failed on one instance, even with nginx retrying twice. Since
# nginx retries a prediction once per idle connection and more
# (scripts/stack/nginx_conf.py), 6 recycles under the same load failed none of
# 789 predictions; token and admin POSTs are still never retried. The app has
# no known leak to recycle away; with two instances behind nginx
# (APP_INSTANCES=2) the retry lands on the other instance.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS") or 0)
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER") or 2_000)

# The app resolves the client itself from TRUSTED_PROXIES (app/client_ip.py,
# strict, and aware of unix-socket peers); Gunicorn's own X-Forwarded-For
# handling stays off unless FORWARDED_ALLOW_IPS names someone.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "")

# nginx writes the access log (JSON, with the request id); the app logs JSON
# itself. Gunicorn's own messages go to stderr.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()

# Gunicorn's control socket (gunicornc) lives at one path per user by default,
# so two instances on a host would fight over it, and a read-only container
# cannot create it. Processes are managed with signals; set
# GUNICORN_CONTROL_SOCKET to a path of this instance's own to enable it.
_control_socket = os.environ.get("GUNICORN_CONTROL_SOCKET")
if _control_socket:
    control_socket = _control_socket
else:
    control_socket_disable = True

# The worker heartbeat file: tmpfs when there is one (a container's /tmp may
# be a slow overlay filesystem, which can make healthy workers look stuck).
_SHM = "/dev/shm"  # noqa: S108 (a tmpfs for heartbeats, never data)
if Path(_SHM).is_dir():
    worker_tmp_dir = _SHM


def _metrics_dir() -> Path | None:
    value = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    return Path(value) if value else None


def on_starting(server: Any) -> None:
    """Drop metric files a previous run left behind, before any worker writes."""
    directory = _metrics_dir()
    if directory is None:
        return
    directory.mkdir(parents=True, exist_ok=True)
    for leftover in directory.glob("*.db"):
        leftover.unlink()


def child_exit(server: Any, worker: Any) -> None:
    """Stop counting a dead worker's live gauges in the aggregated metrics."""
    if _metrics_dir() is None:
        return
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
