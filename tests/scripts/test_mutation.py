"""`make mutation`'s bookkeeping: what it asks mutmut to run next, and how it scores.

mutmut's own files are written here as mutmut writes them (``mutants/<path>.meta``
with ``exit_code_by_key``; ``mutants/mutmut-stats.json`` with the functions tests run).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scripts import mutation
from scripts.mutation import SECURITY_CORE, TIERS, in_scope, summarise, to_run, total

REPO = Path(__file__).resolve().parents[2]
GCRA = "app/ratelimit/gcra.py"


def write_meta(mutants: Path, path: str, codes: dict[str, int | None]) -> None:
    meta = mutants / f"{path}.meta"
    meta.parent.mkdir(parents=True, exist_ok=True)
    meta.write_text(
        json.dumps(
            {
                "exit_code_by_key": codes,
                "hash_by_function_name": {},
                "type_check_error_by_key": {},
                "durations_by_key": {},
                "estimated_durations_by_key": {},
            }
        )
    )


def write_stats(mutants: Path, functions: list[str]) -> None:
    mutants.mkdir(parents=True, exist_ok=True)
    stats = {"tests_by_mangled_function_name": {name: ["tests/x.py::t"] for name in functions}}
    (mutants / "mutmut-stats.json").write_text(json.dumps(stats))


def test_the_security_core_runs_first_and_every_module_is_in_scope() -> None:
    paths = in_scope(REPO)
    assert paths[: len(SECURITY_CORE)] == list(SECURITY_CORE)
    assert paths[0] == "auth/api_keys.py"
    assert "auth/store/redis/api_keys.py" in paths[len(SECURITY_CORE) :]
    assert all(p.startswith(("auth/", "app/ratelimit/")) for p in paths)
    assert not any(p.endswith("__init__.py") for p in paths)
    assert len(set(paths)) == len(paths)
    assert sum(len(tier) for tier in TIERS) == len(SECURITY_CORE)


def test_a_module_mutmut_has_not_generated_is_asked_for_by_glob(tmp_path: Path) -> None:
    assert to_run([GCRA], tmp_path) == ["app.ratelimit.gcra.*"]


def test_only_mutants_without_a_verdict_whose_function_a_test_runs_are_asked_for(
    tmp_path: Path,
) -> None:
    write_stats(tmp_path, ["app.ratelimit.gcra.x_step"])
    write_meta(
        tmp_path,
        GCRA,
        {
            "app.ratelimit.gcra.x_step__mutmut_1": 1,
            "app.ratelimit.gcra.x_step__mutmut_2": None,
            "app.ratelimit.gcra.x_step__mutmut_3": 0,
            "app.ratelimit.gcra.x_unused__mutmut_1": None,
        },
    )
    assert to_run([GCRA], tmp_path) == ["app.ratelimit.gcra.x_step__mutmut_2"]


def test_the_score_counts_timeouts_as_killed_and_leaves_out_what_no_test_runs() -> None:
    codes = {
        "m.x_f__mutmut_1": 1,  # a test failed
        "m.x_f__mutmut_2": 36,  # timeout
        "m.x_f__mutmut_3": 0,  # survived
        "m.x_f__mutmut_4": 33,  # no tests
        "m.x_f__mutmut_5": None,  # not reached
        "m.x_g__mutmut_1": None,  # no test runs g at all
    }
    tally = summarise({"m.py": codes}, frozenset({"m.x_f"}))["m.py"]
    assert (tally.killed, tally.survived, tally.no_tests, tally.not_reached) == (2, 1, 2, 1)
    assert tally.score == pytest.approx(2 / 3)
    assert tally.survivors == ["m.x_f__mutmut_3"]


def test_nothing_decided_has_no_score_rather_than_a_perfect_one() -> None:
    tally = summarise({"m.py": {"m.x_f__mutmut_1": None}}, frozenset({"m.x_f"}))["m.py"]
    assert tally.score is None
    assert "n/a" in tally.line("m.py")


def test_the_report_totals_the_security_core_apart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    mutants = tmp_path / "mutants"
    write_stats(mutants, ["auth.api_keys.x_checksum", "auth.cache.x_get"])
    write_meta(mutants, "auth/api_keys.py", {"auth.api_keys.x_checksum__mutmut_1": 1})
    write_meta(mutants, "auth/cache.py", {"auth.cache.x_get__mutmut_1": 0})
    out: list[str] = []
    whole = mutation.report(["auth/api_keys.py", "auth/cache.py"], 5, out)
    assert (whole.killed, whole.survived) == (1, 1)
    core_line = next(line for line in out if line.startswith("security core"))
    assert "100.0%" in core_line
    assert "  auth.cache.x_get__mutmut_1" in out
    summary = json.loads((mutants / "mutation-summary.json").read_text())
    assert (summary["score"], summary["security_core_score"]) == (0.5, 1.0)
    assert total([]).score is None
