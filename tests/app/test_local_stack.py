"""The shell's store: resolved as the service resolves it, then the stack on STATE_DIR decides.

A real Redis stands for the stack's own (with the stack's ``app`` user), so
every path that connects connects; the stack end to end is in
``tests/stack/test_cli_store.py``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from app.local_stack import (
    APP_REDIS_USER,
    StackStoreUnknown,
    loopback_redis_url,
    redis_address,
    settings_for_shell,
)
from tests.support.redis_server import RedisServer

APP_PASSWORD = "app-password-of-the-stack"
PEPPER = "the-stack-s-pepper-" + "p" * 32
SIGNING_KEYS = "stack:" + "s" * 48


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("redis://app:secret@localhost:6379/0", "redis://127.0.0.1"),
        ("rediss://127.0.0.1:6379/0", "redis://:other@127.0.0.1:6379?db=0"),
        ("redis://10.0.0.7:7000/02", "redis://u:p@10.0.0.7:7000/2"),
        ("unix:///run/redis.sock", "unix://x:y@/run/redis.sock?db=0"),
    ],
)
def test_one_database_has_one_address(first: str, second: str) -> None:
    assert redis_address(first) == redis_address(second)
    assert "secret" not in redis_address(first)


@pytest.mark.parametrize(
    "other", ["redis://127.0.0.1:6380/0", "redis://127.0.0.1:6379/1", "redis://10.0.0.7:6379/0"]
)
def test_another_port_db_or_host_is_another_address(other: str) -> None:
    assert redis_address(other) != redis_address("redis://127.0.0.1:6379/0")


@pytest.fixture
def stack_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A Redis of this test's own, with the stack's ``app`` user."""
    server = RedisServer(tmp_path / "stack-redis")
    server.start()
    client = redis.Redis(port=server.port)
    client.acl_setuser(
        APP_REDIS_USER, enabled=True, passwords=[f"+{APP_PASSWORD}"], keys=["*"], channels=["*"],
        commands=["+@all"],
    )  # fmt: skip
    client.close()
    yield server
    server.stop()


@pytest.fixture
def state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A STATE_DIR in a shell with none of the app's settings but STATE_DIR."""
    monkeypatch.chdir(tmp_path)  # no .env of the repository's
    for name in ("REDIS_URL", "API_KEY_PEPPER", "JWT_SIGNING_KEYS", "ENV"):
        monkeypatch.delenv(name, raising=False)
    directory = tmp_path / "state"
    (directory / "run").mkdir(parents=True)
    monkeypatch.setenv("STATE_DIR", str(directory))
    return directory


def write_stack(state_dir: Path, **manifest: object) -> None:
    (state_dir / "run" / "stack.json").write_text(json.dumps(manifest))
    (state_dir / "stack.env").write_text(
        f"# comment\nREDIS_APP_PASSWORD={APP_PASSWORD}\n"
        f"API_KEY_PEPPER={PEPPER}\nJWT_SIGNING_KEYS={SIGNING_KEYS}\n"
    )


def test_without_a_stack_the_service_s_own_resolution_stands(
    state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert settings_for_shell().redis_url is None
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    assert settings_for_shell().redis_url == "redis://127.0.0.1:1/0"


def test_with_nothing_named_the_stack_s_redis_and_secrets_are_used(
    state_dir: Path, stack_redis: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_stack(state_dir, redis_port=stack_redis.port)
    settings = settings_for_shell()
    assert settings.redis_url == loopback_redis_url(stack_redis.port, APP_PASSWORD, "app")
    assert settings.peppers == [("", PEPPER)]
    assert settings.signing_keys == [("stack", "s" * 48)]
    monkeypatch.setenv("API_KEY_PEPPER", "a-pepper-of-the-shell-" + "q" * 32)
    assert settings_for_shell().peppers[0][1].startswith("a-pepper-of-the-shell-")


def test_a_redis_url_naming_the_stack_s_redis_gets_the_stack_s_secrets(
    state_dir: Path, stack_redis: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_stack(state_dir, redis_port=stack_redis.port)
    named = f"redis://{APP_REDIS_USER}:{APP_PASSWORD}@localhost:{stack_redis.port}"
    monkeypatch.setenv("REDIS_URL", named)
    settings = settings_for_shell()
    assert (settings.redis_url, settings.peppers) == (named, [("", PEPPER)])


def test_a_redis_url_naming_another_redis_is_refused(
    state_dir: Path, stack_redis: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_stack(state_dir, redis_port=stack_redis.port)
    monkeypatch.setenv("REDIS_URL", f"redis://127.0.0.1:{stack_redis.port}/1")
    with pytest.raises(StackStoreUnknown, match=r"REDIS_URL names redis://127\.0\.0\.1:\d+/1"):
        settings_for_shell()


def test_a_stack_on_a_redis_it_was_given_needs_that_redis_named(
    state_dir: Path, stack_redis: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    given = f"redis://127.0.0.1:{stack_redis.port}/0"
    write_stack(state_dir, redis_port=None, redis_address=redis_address(given))
    with pytest.raises(StackStoreUnknown, match="set REDIS_URL to that Redis"):
        settings_for_shell()
    monkeypatch.setenv(
        "REDIS_URL", f"redis://{APP_REDIS_USER}:{APP_PASSWORD}@localhost:{stack_redis.port}"
    )
    assert settings_for_shell().peppers == [("", PEPPER)]


def test_a_manifest_that_does_not_say_where_is_refused_whatever_is_named(
    state_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_stack(state_dir, redis_port=None)
    with pytest.raises(StackStoreUnknown, match="a Redis its manifest does not name"):
        settings_for_shell()
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    with pytest.raises(StackStoreUnknown, match="unset REDIS_URL"):
        settings_for_shell()


def test_a_stack_whose_redis_does_not_answer_is_refused(
    state_dir: Path, stack_redis: RedisServer
) -> None:
    write_stack(state_dir, redis_port=stack_redis.port)
    stack_redis.stop()
    with pytest.raises(StackStoreUnknown, match="does not answer"):
        settings_for_shell()
