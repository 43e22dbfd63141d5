"""SECURITY.md cites tests as proof: every file and test it names must exist."""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CITATION = re.compile(r"`(tests/[\w/]+\.py)(?:::(\w+))?`((?:, `::\w+`)*)")


def citations() -> list[tuple[str, str | None]]:
    found: list[tuple[str, str | None]] = []
    for path, name, more in CITATION.findall((REPO / "SECURITY.md").read_text()):
        found.append((path, name or None))
        found.extend((path, extra) for extra in re.findall(r"::(\w+)", more))
    return found


def test_every_cited_test_exists() -> None:
    cited = citations()
    assert len(cited) > 30
    for path, name in cited:
        source = REPO / path
        assert source.is_file(), path
        if name is None:
            continue
        tree = ast.parse(source.read_text())
        defined = {
            node.name
            for node in ast.walk(tree)
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        }
        assert name in defined, f"{path}::{name}"


def test_every_owasp_api_risk_has_a_row() -> None:
    text = (REPO / "SECURITY.md").read_text()
    for number in range(1, 11):
        assert re.search(rf"^\| API{number} ", text, re.M), f"API{number}"
