"""What an admin may ask for: known scopes only, and nothing beyond what the granter holds
(admin holds metrics)."""

from __future__ import annotations

import pytest

from auth.errors import InvalidInput, ScopeCeiling
from auth.validation import known_scopes, within_ceiling


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


def test_the_ceiling_names_every_scope_beyond_the_granters() -> None:
    with pytest.raises(ScopeCeiling, match=r"do not hold: admin metrics$"):
        within_ceiling(frozenset({"predict", "metrics", "admin"}), frozenset({"predict"}))
    within_ceiling(frozenset({"predict"}), frozenset({"predict", "admin"}))


def test_unknown_scopes_are_named_and_attributed_to_the_scopes_field() -> None:
    with pytest.raises(InvalidInput, match=r"^unknown scopes: root superuser$") as refused:
        known_scopes(["predict", "superuser", "root"])
    assert refused.value.field == "scopes"
    assert known_scopes(["predict", "admin", "predict"]) == {"predict", "admin"}
