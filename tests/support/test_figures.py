"""The measured-figures summary: grouped by test, in recording order, floats to 3 places."""

from __future__ import annotations

from tests.support.figures import FigureBook


def test_figures_are_listed_under_their_test_in_the_order_recorded() -> None:
    book = FigureBook()
    book.sheet("tests/a.py::test_one").record("requests", 1200)
    book.sheet("tests/b.py::test_two").record("recovery (s)", 0.43571)
    book.sheet("tests/a.py::test_one").record("failed", 0)
    book.sheet("tests/a.py::test_one").record("requests", 1201)
    assert book.lines() == [
        "tests/a.py::test_one",
        "    requests: 1201",
        "    failed: 0",
        "tests/b.py::test_two",
        "    recovery (s): 0.436",
    ]


def test_an_empty_book_prints_nothing() -> None:
    assert FigureBook().lines() == []
