"""FIRST_ADMIN_* at start-up: the admin is created once; when users already exist and the
configured admin is not there as configured, one WARNING line says so."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.main import create_app
from tests.app.conftest import ADMIN, ADMIN_PASSWORD, make_settings

IGNORED = "FIRST_ADMIN_USERNAME and FIRST_ADMIN_PASSWORD are ignored"


def start_lines(state: Path, capsys: pytest.CaptureFixture[str], **first_admin: str) -> list[Any]:
    """The JSON log lines of one start and stop of the app on ``state``."""
    capsys.readouterr()
    with TestClient(create_app(make_settings(state, log_format="json", **first_admin))):
        pass
    return [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]


def ignored(lines: list[Any]) -> list[Any]:
    return [line for line in lines if IGNORED in line["msg"]]


@pytest.mark.parametrize(
    ("first_admin", "reason"),
    [
        ({"first_admin_username": "someone-else"}, "none is named 'someone-else'"),
        ({"first_admin_password": "another-long-passphrase"}, f"{ADMIN!r} exists with another"),
    ],
)
def test_an_ignored_first_admin_is_one_warning_saying_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], first_admin: dict[str, str], reason: str
) -> None:
    first = start_lines(tmp_path / "state", capsys)
    assert any(line["msg"] == "created the first admin" for line in first)
    assert ignored(first) == []
    [line] = ignored(start_lines(tmp_path / "state", capsys, **first_admin))
    assert line["level"] == "warning"
    assert reason in line["msg"]
    assert ADMIN_PASSWORD not in line["msg"]
    assert "another-long-passphrase" not in line["msg"]


def test_a_restart_with_the_admin_as_configured_says_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    start_lines(tmp_path / "state", capsys)
    again = start_lines(tmp_path / "state", capsys)
    assert ignored(again) == []
    assert not any(line["level"] == "warning" and "FIRST_ADMIN" in line["msg"] for line in again)
