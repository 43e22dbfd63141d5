"""``python -m scripts.mutation`` (``make mutation``): mutmut over ``auth/`` and ``app/ratelimit/``.

Bounded in time (``--minutes``, ``MUTATION_MINUTES``): a surviving mutant of a
function every fixture calls (``ApiKeyDigester.__init__``) reruns every auth
test, 110 s on a shared 2-core machine; the first 25-minute run decided 375 of
3,408 mutants (0.2 a second), so all of them take about five hours. The
modules whose bugs are security bugs go first (key checksum and digest, token
checks, scope rules, the GCRA arithmetic), the stores after; what the time
does not reach is reported as not reached. mutmut keeps every verdict under
``mutants/``, so the next run goes on where this one stopped. The
configuration (which tests run) is ``[tool.mutmut]`` in pyproject.toml.

The score is killed / (killed + survived): a timeout counts as killed, a
mutant no test even runs ("no tests") is listed apart, as are those not
reached.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

MUTANTS = Path("mutants")
TIERS = (
    ("auth/api_keys.py", "auth/tokens.py", "app/ratelimit/gcra.py", "app/ratelimit/decision.py"),
    ("auth/resolver.py", "auth/validation.py", "auth/token_service.py", "app/ratelimit/local.py"),
    ("auth/key_service.py", "auth/refresh.py", "auth/passwords.py", "auth/password_policy.py"),
    ("app/ratelimit/headers.py", "app/ratelimit/keys.py", "app/ratelimit/failures.py"),
)
"""The security core, where a surviving mutant is most likely a way in, in the order run:
key checksum and digest, token checks, the GCRA arithmetic; then scope rules and grants."""
SECURITY_CORE = tuple(path for tier in TIERS for path in tier)
SCOPE = ("auth", "app/ratelimit")
GRACE_SECONDS = 60

KILLED = frozenset({1, 3, 24, -24, 36, 37, 152, 255})
"""mutmut's exit codes for a detected mutant: a failing test, a timeout, a type error."""
SURVIVED = 0
NO_TESTS = frozenset({5, 33})


def module_of(path: str) -> str:
    return path.removesuffix(".py").replace("/", ".")


def in_scope(root: Path = Path()) -> list[str]:
    """Every module mutated, security core first, as paths relative to ``root``."""
    found = sorted(
        str(path.relative_to(root))
        for top in SCOPE
        for path in (root / top).rglob("*.py")
        if path.name != "__init__.py"
    )
    core = [path for path in SECURITY_CORE if path in found]
    return [*core, *(path for path in found if path not in SECURITY_CORE)]


def verdicts(path: str, mutants: Path = MUTANTS) -> dict[str, int | None]:
    """mutmut's verdict (exit code) per mutant of one module; ``None``: not run yet."""
    meta = mutants / f"{path}.meta"
    if not meta.exists():
        return {}
    codes: dict[str, int | None] = json.loads(meta.read_text())["exit_code_by_key"]
    return codes


def covered_functions(mutants: Path = MUTANTS) -> frozenset[str]:
    """The functions some selected test runs (mutmut's stats); the others' mutants have none."""
    stats = mutants / "mutmut-stats.json"
    if not stats.exists():
        return frozenset()
    return frozenset(json.loads(stats.read_text())["tests_by_mangled_function_name"])


def function_of(mutant: str) -> str:
    return mutant.partition("__mutmut_")[0]


def to_run(paths: Iterable[str], mutants: Path = MUTANTS) -> list[str]:
    """mutmut's arguments for these modules: their mutants without a verdict whose function
    some test runs, or a glob per module when mutmut has not generated them yet. (A mutant
    named is run again even when it has a verdict, and one that no test runs makes
    ``mutmut run NAME`` fail, hence both filters.)
    """
    tested = covered_functions(mutants)
    names: list[str] = []
    for path in paths:
        codes = verdicts(path, mutants)
        if not codes or not tested:
            names.append(f"{module_of(path)}.*")
            continue
        names.extend(
            name for name, code in codes.items() if code is None and function_of(name) in tested
        )
    return names


@dataclass
class Tally:
    killed: int = 0
    survived: int = 0
    no_tests: int = 0
    other: int = 0
    not_reached: int = 0
    survivors: list[str] = field(default_factory=list)

    def add(self, name: str, code: int | None) -> None:
        if code is None:
            self.not_reached += 1
        elif code in KILLED:
            self.killed += 1
        elif code == SURVIVED:
            self.survived += 1
            self.survivors.append(name)
        elif code in NO_TESTS:
            self.no_tests += 1
        else:
            self.other += 1

    @property
    def score(self) -> float | None:
        decided = self.killed + self.survived
        return None if decided == 0 else self.killed / decided

    def line(self, label: str) -> str:
        score = "  n/a" if self.score is None else f"{self.score:6.1%}"
        return (
            f"{label:<34} {score}  killed {self.killed:4}  survived {self.survived:4}"
            f"  no tests {self.no_tests:3}  other {self.other:3}  not reached {self.not_reached:4}"
        )


def summarise(
    codes_by_path: Mapping[str, Mapping[str, int | None]], tested: frozenset[str]
) -> dict[str, Tally]:
    """Tally each module's verdicts; a mutant of a function no test runs counts as "no tests"
    even before mutmut reaches it."""
    tallies = {path: Tally() for path in codes_by_path}
    for path, codes in codes_by_path.items():
        for name, code in codes.items():
            untested = code is None and bool(tested) and function_of(name) not in tested
            tallies[path].add(name, min(NO_TESTS) if untested else code)
    return tallies


def total(tallies: Iterable[Tally]) -> Tally:
    whole = Tally()
    for tally in tallies:
        whole.killed += tally.killed
        whole.survived += tally.survived
        whole.no_tests += tally.no_tests
        whole.other += tally.other
        whole.not_reached += tally.not_reached
        whole.survivors += tally.survivors
    return whole


def run_mutmut(names: Sequence[str], deadline: float, children: int) -> None:
    """One ``mutmut run`` over ``names``, interrupted (as by Ctrl-C) at the deadline."""
    command = [sys.executable, "-m", "mutmut", "run", "--max-children", str(children), *names]
    process = subprocess.Popen(command, start_new_session=True)  # noqa: S603 (fixed arguments)
    try:
        process.wait(timeout=max(1.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=GRACE_SECONDS)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def report(paths: Sequence[str], minutes: float, out: list[str]) -> Tally:
    tallies = summarise({path: verdicts(path) for path in paths}, covered_functions())
    core = total(tallies[p] for p in paths if p in SECURITY_CORE)
    whole = total(tallies.values())
    out.append(f"mutation testing, {minutes:g} min budget (score = killed / (killed + survived))")
    out.extend(tallies[path].line(path) for path in paths if verdicts(path))
    out.append(core.line("security core"))
    out.append(whole.line("auth/ + app/ratelimit/"))
    if whole.survivors:
        out.append("survivors (`.venv/bin/mutmut show NAME` shows the change):")
        out.extend(f"  {name}" for name in whole.survivors)
    summary = {
        "minutes": minutes,
        "score": whole.score,
        "security_core_score": core.score,
        "by_module": {path: vars(tally) for path, tally in tallies.items()},
    }
    MUTANTS.mkdir(exist_ok=True)
    (MUTANTS / "mutation-summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return whole


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.mutation", description=__doc__)
    parser.add_argument(
        "--minutes", type=float, default=float(os.environ.get("MUTATION_MINUTES", 25))
    )
    parser.add_argument("--children", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--report-only", action="store_true", help="print the last verdicts")
    args = parser.parse_args(argv)
    paths = in_scope()
    deadline = time.monotonic() + args.minutes * 60
    if not args.report_only:
        rest = tuple(p for p in paths if p not in SECURITY_CORE)
        for tier in (*TIERS, rest):
            names = to_run(tier)
            if names and time.monotonic() < deadline - GRACE_SECONDS:
                run_mutmut(names, deadline, args.children)
    out: list[str] = []
    report(paths, args.minutes, out)
    sys.stdout.write("\n".join(out) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
