"""The lock files `make run` and `make test` install from: complete, hashed, in step with
pyproject.toml. (Whether they resolve is `make lock`'s business; whether a fresh venv
installs them on 3.11-3.13 was checked when they were written.)"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

REPO = Path(__file__).resolve().parents[1]
RUNTIME, DEV = REPO / "requirements.lock", REPO / "requirements-dev.lock"
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())

ENTRY = re.compile(
    r"^(?P<name>[a-z0-9._-]+)==(?P<version>[^\s;]+)(?: ; (?P<marker>[^\\\n]+))? \\\n"
    r"(?P<hashes>(?:    --hash=sha256:[0-9a-f]{64}(?: \\)?\n)+)",
    re.M,
)


def pinned(lock: Path) -> dict[str, set[Version]]:
    """Every pinned release per package (more than one when markers split by Python)."""
    pins: dict[str, set[Version]] = {}
    for match in ENTRY.finditer(lock.read_text()):
        pins.setdefault(canonicalize_name(match["name"]), set()).add(Version(match["version"]))
    return pins


@pytest.mark.parametrize("lock", [RUNTIME, DEV], ids=lambda p: p.name)
def test_every_pin_carries_its_hashes(lock: Path) -> None:
    """`pip install --require-hashes` refuses a pin without one; no line escapes the pattern."""
    requirement_lines = [
        line for line in lock.read_text().splitlines() if line and line[0].isalnum()
    ]
    assert requirement_lines
    assert len(requirement_lines) == len(list(ENTRY.finditer(lock.read_text())))


@pytest.mark.parametrize(
    ("lock", "requirements"),
    [
        (RUNTIME, [*PYPROJECT["project"]["dependencies"], *PYPROJECT["build-system"]["requires"]]),
        (DEV, PYPROJECT["project"]["optional-dependencies"]["dev"]),
    ],
    ids=["runtime", "dev"],
)
def test_the_lock_satisfies_pyproject(lock: Path, requirements: list[str]) -> None:
    """A dependency added or moved on in pyproject.toml without `make lock` fails here,
    not at the first import in production."""
    pins = pinned(lock)
    for text in requirements:
        requirement = Requirement(text)
        versions = pins.get(canonicalize_name(requirement.name))
        assert versions, f"{requirement.name} is not in {lock.name}: run `make lock`"
        for version in versions:
            assert requirement.specifier.contains(version, prereleases=True), (
                f"{lock.name} pins {requirement.name} {version}, pyproject wants {text}"
            )


def test_the_dev_lock_holds_the_runtime_pins_unchanged() -> None:
    """`make test` installs the dev lock over the runtime one: it must not move a pin."""
    runtime, dev = pinned(RUNTIME), pinned(DEV)
    assert {name: dev.get(name) for name in runtime} == runtime
