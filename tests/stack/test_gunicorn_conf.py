"""gunicorn.conf.py: values from the environment, agreement with nginx, metrics hooks."""

from __future__ import annotations

import os
import re
import runpy
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
CONF = REPO / "gunicorn.conf.py"
TEMPLATE = REPO / "nginx" / "nginx.conf.template"


def load(monkeypatch: pytest.MonkeyPatch, **env: str) -> dict[str, Any]:
    for name in (
        "WORKERS",
        "BIND",
        "HOST",
        "PORT",
        "FORWARDED_ALLOW_IPS",
        "PROMETHEUS_MULTIPROC_DIR",
        "GUNICORN_MAX_REQUESTS",
        "GUNICORN_MAX_REQUESTS_JITTER",
    ):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return runpy.run_path(str(CONF))


def test_runs_uvicorn_workers_from_the_maintained_package(monkeypatch: pytest.MonkeyPatch) -> None:
    """``app.worker.Worker`` is ``uvicorn_worker.UvicornWorker`` writing answers whole."""
    assert load(monkeypatch)["worker_class"] == "app.worker.Worker"


def test_workers_follow_the_cpus_unless_told(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load(monkeypatch)["workers"] == len(os.sched_getaffinity(0))
    assert load(monkeypatch, WORKERS="3")["workers"] == 3


def test_bind_and_trusted_proxy_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    conf = load(monkeypatch, HOST="0.0.0.0", PORT="9000")
    assert conf["bind"] == ["0.0.0.0:9000"]
    assert conf["forwarded_allow_ips"] == ""
    assert load(monkeypatch, BIND="unix:/run/app.sock")["bind"] == ["unix:/run/app.sock"]
    assert conf["umask"] == 0o117
    assert (
        load(monkeypatch, FORWARDED_ALLOW_IPS="172.30.0.10")["forwarded_allow_ips"] == "172.30.0.10"
    )


def test_no_preload_and_no_access_log(monkeypatch: pytest.MonkeyPatch) -> None:
    conf = load(monkeypatch)
    assert conf["preload_app"] is False
    assert conf["accesslog"] is None
    assert conf["graceful_timeout"] <= conf["timeout"]


def test_worker_recycling_is_opt_in_and_jittered(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load(monkeypatch)["max_requests"] == 0
    conf = load(monkeypatch, GUNICORN_MAX_REQUESTS="20000")
    assert conf["max_requests"] == 20_000
    assert 0 < conf["max_requests_jitter"] < conf["max_requests"]


def test_keepalive_outlasts_nginx_upstream_keepalive(monkeypatch: pytest.MonkeyPatch) -> None:
    upstream = re.search(r"upstream api \{(.*?)\n    \}", TEMPLATE.read_text(), re.DOTALL)
    assert upstream is not None
    nginx_idle = re.search(r"keepalive_timeout (\d+)s;", upstream.group(1))
    assert nginx_idle is not None
    assert load(monkeypatch)["keepalive"] > int(nginx_idle.group(1))


def test_dead_workers_stop_counting_in_multiprocess_metrics(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    conf = load(monkeypatch, PROMETHEUS_MULTIPROC_DIR=str(tmp_path))
    (tmp_path / "counter_4242.db").write_bytes(b"")
    (tmp_path / "gauge_livesum_4242.db").write_bytes(b"")
    (tmp_path / "gauge_livesum_4343.db").write_bytes(b"")
    conf["child_exit"](None, SimpleNamespace(pid=4242))
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "counter_4242.db",
        "gauge_livesum_4343.db",
    ]


def test_leftover_metric_files_are_dropped_at_startup(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    metrics = tmp_path / "metrics"
    conf = load(monkeypatch, PROMETHEUS_MULTIPROC_DIR=str(metrics))
    metrics.mkdir()
    (metrics / "counter_1.db").write_bytes(b"")
    conf["on_starting"](None)
    assert list(metrics.iterdir()) == []


def test_hooks_do_nothing_without_a_metrics_dir(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    conf = load(monkeypatch)
    conf["on_starting"](None)
    conf["child_exit"](None, SimpleNamespace(pid=1))
    assert list(tmp_path.iterdir()) == []
