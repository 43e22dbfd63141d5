"""The stack script itself: process ownership, failure handling, generated files."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import redis
from cryptography import x509

from scripts.stack import stack_env
from scripts.stack.nginx_conf import COMPOSE_CONF, TemplateError, compose_values, render
from scripts.stack.pki import ensure_dev_pki
from scripts.stack.processes import ServiceSpec, running_pid, start, stop
from tests.stack.harness import RunningStack, run_cli, stack_environment, stop_stack

PATH_ONLY = {"PATH": "/usr/bin:/bin"}


def sleeper(tmp_path: Path, name: str, script: str = "exec sleep 30") -> ServiceSpec:
    return ServiceSpec(
        name=name,
        argv=["/bin/sh", "-c", script],
        log_file=tmp_path / f"{name}.log",
        cwd=tmp_path,
        env=PATH_ONLY,
    )


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except OSError:
        return False
    return state not in {"Z", "X"}


def test_a_started_service_is_stopped_and_forgotten(tmp_path: Path) -> None:
    started = start(sleeper(tmp_path, "sleeper"), tmp_path / "run")
    assert running_pid("sleeper", tmp_path / "run") == started.pid
    assert stop("sleeper", tmp_path / "run", signal.SIGTERM, timeout=5)
    assert not alive(started.pid)
    assert not (tmp_path / "run" / "sleeper.pid").exists()
    assert not stop("sleeper", tmp_path / "run", signal.SIGTERM, timeout=5)


def test_a_pid_file_naming_another_process_is_never_signalled(tmp_path: Path) -> None:
    """A pid reused by an unrelated process (its start time differs) is left alone."""
    bystander = subprocess.Popen(["sleep", "30"])
    try:
        run_dir = tmp_path / "run"
        run_dir.mkdir()
        (run_dir / "ghost.pid").write_text(f"{bystander.pid}\n1\n")
        assert running_pid("ghost", run_dir) is None
        assert not stop("ghost", run_dir, signal.SIGTERM, timeout=1)
        assert bystander.poll() is None
    finally:
        bystander.kill()
        bystander.wait()


def test_a_service_ignoring_sigterm_is_killed_with_its_children(tmp_path: Path) -> None:
    script = "trap '' TERM; sleep 30 & echo $! > child.pid; wait"
    started = start(sleeper(tmp_path, "stubborn", script), tmp_path / "run")
    child_file = tmp_path / "child.pid"
    deadline = time.monotonic() + 5
    while not child_file.exists() or not child_file.read_text().strip():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    child = int(child_file.read_text())
    assert stop("stubborn", tmp_path / "run", signal.SIGTERM, timeout=0.5)
    deadline = time.monotonic() + 5
    while alive(child) or alive(started.pid):
        assert time.monotonic() < deadline, "the leader or its child survived"
        time.sleep(0.05)


@pytest.mark.stack
def test_up_refuses_to_start_a_second_stack_over_a_running_one(stack: RunningStack) -> None:
    result = run_cli("up", stack.env, timeout=60)
    assert result.returncode == 1
    assert "already running" in result.stderr
    with stack.client() as client:
        assert client.get("/readyz").status_code == 200


@pytest.mark.stack
def test_the_stack_s_redis_wants_a_password_and_keeps_an_append_only_file(
    stack: RunningStack,
) -> None:
    assert stack.info.redis_port is not None
    anonymous = redis.Redis(port=stack.info.redis_port)
    with pytest.raises(redis.exceptions.AuthenticationError):
        anonymous.ping()
    anonymous.close()

    password = stack_env.read(stack.state_dir / "stack.env")["REDIS_PASSWORD"]
    client = redis.Redis(port=stack.info.redis_port, password=password, decode_responses=True)
    try:
        assert client.config_get("appendonly") == {"appendonly": "yes"}
        # Acknowledged means on disk (scripts/stack/services.py redis_spec says why).
        assert client.config_get("appendfsync") == {"appendfsync": "always"}
        assert client.config_get("dir") == {"dir": str(stack.state_dir / "redis")}
        assert client.config_get("bind") == {"bind": "127.0.0.1"}
    finally:
        client.close()
    assert list((stack.state_dir / "redis").glob("appendonlydir/*.aof"))


def test_the_app_s_redis_user_has_only_what_it_needs(stack: RunningStack) -> None:
    """The app connects as ``app``: its own keys and channel, no admin or dangerous command."""
    assert stack.info.redis_port is not None
    password = stack_env.read(stack.state_dir / "stack.env")["REDIS_APP_PASSWORD"]
    app_user = redis.Redis(port=stack.info.redis_port, username="app", password=password)
    try:
        assert app_user.ping()
        app_user.set("hapi:acl-probe", "1", ex=10)
        for forbidden in (
            lambda: app_user.flushall(),
            lambda: app_user.config_get("dir"),
            lambda: app_user.keys("*"),
            lambda: app_user.get("someone-else:key"),
            lambda: app_user.acl_list(),
            lambda: app_user.shutdown(),
        ):
            with pytest.raises(redis.exceptions.NoPermissionError):
                forbidden()
    finally:
        app_user.close()


@pytest.mark.stack
def test_a_failed_up_reports_why_and_leaves_nothing_running(
    stack_state_dirs: Callable[[str], Path],
) -> None:
    state = stack_state_dirs("failed")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        env = stack_environment(state, HTTPS_PORT=str(taken.getsockname()[1]))
        result = run_cli("up", env, timeout=180)
    assert result.returncode == 1
    assert "nginx exited" in result.stderr
    assert "Address already in use" in result.stderr
    run_dir = state / "run"
    assert not list(run_dir.glob("*.pid"))
    stop_stack(env)


def test_dev_pki_is_reused_until_it_must_change(tmp_path: Path) -> None:
    first = ensure_dev_pki(tmp_path)
    ca, leaf = first.ca_certificate.read_bytes(), first.certificate.read_bytes()
    ensure_dev_pki(tmp_path)
    assert first.ca_certificate.read_bytes() == ca
    assert first.certificate.read_bytes() == leaf

    ensure_dev_pki(tmp_path, dns_names=("localhost", "api.localhost"))
    renewed = x509.load_pem_x509_certificate(first.certificate.read_bytes())
    assert first.ca_certificate.read_bytes() == ca, "clients keep trusting the same CA"
    names = renewed.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "api.localhost" in names.get_values_for_type(x509.DNSName)
    renewed.verify_directly_issued_by(x509.load_pem_x509_certificate(ca))
    assert "BEGIN DH PARAMETERS" in first.dhparam.read_text()


def test_stack_secrets_are_generated_once_and_given_values_win(tmp_path: Path) -> None:
    path = tmp_path / "stack.env"
    generated = stack_env.load_or_create(path, {})
    assert set(generated) == set(stack_env.GENERATORS)
    assert path.stat().st_mode & 0o777 == 0o600
    assert stack_env.load_or_create(path, {}) == generated

    given = {"API_KEY_PEPPER": "from-the-environment"}
    handed_over = stack_env.load_or_create(path, given)
    assert "API_KEY_PEPPER" not in handed_over
    assert "from-the-environment" not in path.read_text()


def test_compose_nginx_conf_is_the_template_rendered() -> None:
    assert COMPOSE_CONF.read_text(encoding="utf-8") == render(compose_values()), (
        "nginx/nginx.conf is stale: run `python -m scripts.stack render-nginx`"
    )


def test_template_rendering_refuses_gaps_and_leftovers() -> None:
    with pytest.raises(TemplateError, match="no value"):
        render({}, "listen {{ port }};")
    with pytest.raises(TemplateError, match="unknown"):
        render({"port": "1", "other": "2"}, "listen {{ port }};")
    assert render({"port": "8443"}, "listen {{ port }};") == "listen 8443;"


def test_environment_overrides_do_not_leak_between_stacks(tmp_path: Path) -> None:
    os.environ["REDIS_URL"] = "redis://should-not-leak:1/0"
    try:
        env = stack_environment(tmp_path)
    finally:
        del os.environ["REDIS_URL"]
    assert "REDIS_URL" not in env


def test_app_addresses_outlast_idle_connections_and_only_predictions_retry_posts() -> None:
    """A request may fail on its own connection and then on every cached one to a dead
    worker (scripts/stack/nginx_conf.py upstream_servers): one entry more than those."""
    from scripts.stack.nginx_conf import UPSTREAM_KEEPALIVE, upstream_servers

    rendered = upstream_servers(["127.0.0.1:1", "127.0.0.1:2"]).split("\n")
    per_address = UPSTREAM_KEEPALIVE + 2
    # In turns, so that round robin alternates between the instances.
    assert [line.strip() for line in rendered] == [
        "server 127.0.0.1:1 max_fails=0;",
        "server 127.0.0.1:2 max_fails=0;",
    ] * per_address
    conf = render(compose_values())
    assert re.findall(r"^\s*keepalive (\d+);", conf, re.MULTILINE) == [str(UPSTREAM_KEEPALIVE)]
    retrying = re.findall(r"location ([^{]+)\{[^}]*proxy_next_upstream [^;]*non_idempotent", conf)
    assert [location.strip() for location in retrying] == ["~ ^/v[12]/predict(/batch)?$"]
