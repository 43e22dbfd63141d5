"""Figures a test measured, printed at the end of the run (``tests/conftest.py``).

A test calls ``record("schema fuzzing", "21 operations, 2,412 cases")``; the
terminal summary prints every section, in the order sections were first
recorded, so ``make test`` ends with what the suite measured, not only
whether it passed.
"""

from __future__ import annotations

_SECTIONS: dict[str, list[str]] = {}


def record(section: str, line: str) -> None:
    _SECTIONS.setdefault(section, []).append(line)


def sections() -> dict[str, list[str]]:
    return {section: list(lines) for section, lines in _SECTIONS.items()}
