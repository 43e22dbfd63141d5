"""``python -m scripts.audit LOCK...`` (``make audit``): known advisories against every pin.

pip-audit reads a hashed lock as it is (``--require-hashes --disable-pip``: no
resolution, no install) and asks an advisory service about each pinned
release. It has one answer that reads like success and is not: a package the
service cannot be asked about is *skipped*, and pip-audit still prints "No
known vulnerabilities found" and exits 0. Seen on a network where PyPI's
per-release JSON answers 404 and OSV does not resolve: every one of 111 pins
skipped, exit 0. So this wrapper reads pip-audit's JSON and says which of
three things happened, in its exit code too:

- 0: every pin of every lock was checked, and no advisory names one;
- 1: advisories were found (each printed with the versions that fix it);
- 2: some pin could not be checked by any service (unreachable, unknown to
  it): the lock is NOT audited, whatever pip-audit printed.

pip-audit leaves out a pin whose marker excludes the running interpreter
(``pyyaml-ft ; python_full_version == '3.13.*'`` on 3.11), so the lock is
audited with its markers removed: every pin, for every Python it serves.

Services are tried in order (``AUDIT_SERVICES``, default ``osv pypi``) until
one checks every pin; ``AUDIT_OSV_URL`` points the OSV one at a mirror.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CLEAN, VULNERABLE, NOT_AUDITED = 0, 1, 2
DEFAULT_SERVICES = ("osv", "pypi")
TIMEOUT_SECONDS = 600
MARKER = re.compile(r"^([A-Za-z0-9._-]+==\S+) ; [^\\\n]+", re.M)


@dataclass(frozen=True, slots=True)
class Advisory:
    package: str
    version: str
    ids: tuple[str, ...]
    """The service's id first, then its aliases (CVE, GHSA, PYSEC)."""
    fixed_in: tuple[str, ...]

    def __str__(self) -> str:
        fix = f"fixed in {', '.join(self.fixed_in)}" if self.fixed_in else "no fixed release"
        return f"{self.package} {self.version}: {' / '.join(self.ids)} ({fix})"


@dataclass(frozen=True, slots=True)
class Verdict:
    """What one service said about one lock file."""

    service: str
    checked: int = 0
    skipped: dict[str, str] = field(default_factory=dict)
    """Package → why the service could not check it."""
    advisories: tuple[Advisory, ...] = ()
    failure: str | None = None
    """Why the service gave no answer at all (pip-audit's own error)."""

    @property
    def complete(self) -> bool:
        return self.failure is None and not self.skipped and self.checked > 0

    def why_incomplete(self) -> str:
        if self.failure is not None:
            return f"{self.service}: no answer ({self.failure})"
        if self.checked == 0 and not self.skipped:
            return f"{self.service}: the lock has no pins"
        total = self.checked + len(self.skipped)
        example = next(iter(self.skipped.values()))
        return f"{self.service}: {len(self.skipped)} of {total} pins not checked (e.g. {example})"


def judge(service: str, report: Mapping[str, Any]) -> Verdict:
    """Read pip-audit's JSON report (``-f json``): what was checked, skipped and found."""
    checked = 0
    skipped: dict[str, str] = {}
    advisories: list[Advisory] = []
    for dependency in report.get("dependencies", []):
        name = str(dependency["name"])
        if "skip_reason" in dependency:
            skipped[name] = str(dependency["skip_reason"])
            continue
        checked += 1
        for vuln in dependency.get("vulns", []):
            advisories.append(
                Advisory(
                    package=name,
                    version=str(dependency.get("version", "?")),
                    ids=(str(vuln["id"]), *(str(a) for a in vuln.get("aliases", []))),
                    fixed_in=tuple(str(v) for v in vuln.get("fix_versions", [])),
                )
            )
    return Verdict(service, checked, skipped, tuple(advisories))


def pip_audit_command(lock: Path, service: str, osv_url: str | None) -> list[str]:
    command = [
        sys.executable,
        "-m",
        "pip_audit",
        "--requirement",
        str(lock),
        "--require-hashes",
        "--disable-pip",
        "--progress-spinner",
        "off",
        "--format",
        "json",
        "--vulnerability-service",
        service,
    ]
    if service == "osv" and osv_url:
        command += ["--osv-url", osv_url]
    return command


def every_pin(lock: Path) -> str:
    """The lock's text with environment markers removed (hashes kept)."""
    return MARKER.sub(r"\1 ", lock.read_text())


def ask(lock: Path, service: str, env: Mapping[str, str]) -> Verdict:
    """One pip-audit run over every pin; its exit code is not trusted, its JSON is read."""
    with tempfile.TemporaryDirectory() as scratch:
        unmarked = Path(scratch) / lock.name
        unmarked.write_text(every_pin(lock))
        try:
            done = subprocess.run(  # noqa: S603 (our own interpreter, fixed arguments)
                pip_audit_command(unmarked, service, env.get("AUDIT_OSV_URL")),
                capture_output=True,
                text=True,
                env=dict(env),
                timeout=TIMEOUT_SECONDS,
                check=False,
            )
        except subprocess.TimeoutExpired:
            return Verdict(service, failure=f"no answer in {TIMEOUT_SECONDS} s")
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        return Verdict(service, failure=lines[-1][:300] if lines else f"exit {done.returncode}")
    return judge(service, report)


def audit(lock: Path, services: Sequence[str], env: Mapping[str, str]) -> list[Verdict]:
    """Ask each service in turn until one checks every pin; every answer is kept."""
    verdicts = []
    for service in services:
        verdict = ask(lock, service, env)
        verdicts.append(verdict)
        if verdict.complete:
            break
    return verdicts


def report(lock: Path, verdicts: Sequence[Verdict], out: list[str]) -> int:
    """Append what happened to ``out``; return this lock's exit code.

    An advisory any service found is shown even when that service missed other pins.
    """
    final = verdicts[-1]
    found = {(a.package, a.ids[0]): a for verdict in verdicts for a in verdict.advisories}
    if found:
        out.append(f"{lock}: {len(found)} known advisories:")
        out.extend(f"  {advisory}" for advisory in found.values())
    if not final.complete:
        out.append(f"{lock}: NOT AUDITED: no advisory service could check every pin")
        out.extend(f"  {verdict.why_incomplete()}" for verdict in verdicts)
        return NOT_AUDITED
    if found:
        return VULNERABLE
    out.append(f"{lock}: {final.checked} pins checked against {final.service}: no known advisory")
    return CLEAN


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    locks = [Path(arg) for arg in (sys.argv[1:] if argv is None else argv)]
    environment = dict(os.environ if env is None else env)
    if not locks:
        sys.stderr.write("usage: python -m scripts.audit LOCK [LOCK...]\n")
        return NOT_AUDITED
    services = environment.get("AUDIT_SERVICES", " ".join(DEFAULT_SERVICES)).split()
    out: list[str] = []
    codes = [report(lock, audit(lock, services, environment), out) for lock in locks]
    worst = max(codes)
    if worst == NOT_AUDITED:
        out.append("audit: FAILED: the pins above have not been checked for advisories")
    elif worst == VULNERABLE:
        out.append("audit: FAILED: upgrade with `make lock LOCK_ARGS='--upgrade-package NAME'`")
    else:
        out.append("audit: passed")
    sys.stdout.write("\n".join(out) + "\n")
    return worst


if __name__ == "__main__":
    sys.exit(main())
