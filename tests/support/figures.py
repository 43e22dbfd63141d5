"""Figures a test measured, printed together at the end of ``pytest``'s output.

A passing test prints nothing, so what it measured (requests sent, failures,
a recovery time) would otherwise be lost. A test asks for the ``figures``
fixture (tests/conftest.py) and records named values; the terminal summary
lists them under each test's id, in the order they were recorded.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

Value = int | float | str


@dataclass
class FigureBook:
    """Every figure of the run, grouped by test id."""

    _by_test: dict[str, dict[str, Value]] = field(default_factory=dict)

    def sheet(self, test_id: str) -> FigureSheet:
        return FigureSheet(self, test_id)

    def record(self, test_id: str, name: str, value: Value) -> None:
        self._by_test.setdefault(test_id, {})[name] = value

    def lines(self) -> list[str]:
        lines = []
        for test_id, values in self._by_test.items():
            lines.append(test_id)
            lines.extend(f"    {name}: {_format(value)}" for name, value in values.items())
        return lines


@dataclass(frozen=True, slots=True)
class FigureSheet:
    """One test's page of the book: ``figures.record("failures", 0)``."""

    book: FigureBook
    test_id: str

    def record(self, name: str, value: Value) -> None:
        self.book.record(self.test_id, name, value)


BOOK = pytest.StashKey[FigureBook]()
"""Where the run's book lives (``config.stash``)."""


def install(config: pytest.Config) -> None:
    config.stash[BOOK] = FigureBook()


def sheet_for(request: pytest.FixtureRequest) -> FigureSheet:
    return request.config.stash[BOOK].sheet(request.node.nodeid)


def module_sheet(request: pytest.FixtureRequest, section: str) -> FigureSheet:
    """A page for figures a module- or session-scoped fixture gathers, titled ``section``."""
    return request.config.stash[BOOK].sheet(section)


def write_summary(reporter: pytest.TerminalReporter) -> None:
    lines = reporter.config.stash[BOOK].lines()
    if not lines:
        return
    reporter.write_sep("=", "measured figures")
    for line in lines:
        reporter.write_line(line)


def _format(value: Value) -> str:
    if isinstance(value, float):
        return f"{value:.3f}"
    return str(value)
