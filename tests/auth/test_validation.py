"""The scope ceiling: nothing grants what it does not hold, and admin holds metrics."""

from __future__ import annotations

import pytest

from auth.errors import ScopeCeiling
from auth.validation import within_ceiling


def test_an_admin_may_hand_out_a_metrics_only_key() -> None:
    within_ceiling(frozenset({"metrics"}), frozenset({"admin"}))


@pytest.mark.parametrize(
    ("wanted", "held"),
    [({"metrics"}, {"predict"}), ({"admin"}, {"metrics"}), ({"predict"}, {"admin"})],
)
def test_nothing_grants_beyond_what_it_holds(wanted: set[str], held: set[str]) -> None:
    with pytest.raises(ScopeCeiling):
        within_ceiling(frozenset(wanted), frozenset(held))


def test_the_operator_s_shell_has_no_ceiling() -> None:
    within_ceiling(frozenset({"admin", "metrics", "predict"}), None)
