"""`make audit` says plainly whether the pins were checked, and fails unless they were clean.

pip-audit itself runs here, against the real lock files. No public advisory
service is reachable from the test machine, so the answers come from (a) a
proxy that refuses every connection, and (b) an advisory service of the
test's own speaking OSV's query API, which pip-audit reaches through its
``--osv-url`` option exactly as it reaches OSV.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from scripts.audit import CLEAN, NOT_AUDITED, VULNERABLE, judge

REPO = Path(__file__).resolve().parents[2]
LOCKS = [REPO / "requirements.lock", REPO / "requirements-dev.lock"]

ADVISORY = {
    "id": "GHSA-test-0000-0000",
    "summary": "a made-up advisory against the pinned idna, served by this test",
    "aliases": ["CVE-0000-00000"],
    "affected": [
        {
            "package": {"name": "idna", "ecosystem": "PyPI"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}, {"fixed": "99.0"}]}],
        }
    ],
}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class AdvisoryService:
    """OSV's ``POST /v1/query``: the advisories of one package release, or ``{}``."""

    def __init__(self, advisories: dict[str, list[dict[str, object]]]) -> None:
        self.advisories = advisories
        self.asked: list[str] = []
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                query = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                name = query["package"]["name"]
                service.asked.append(f"{name}=={query['version']}")
                vulns = service.advisories.get(name)
                body = json.dumps({"vulns": vulns} if vulns else {}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1/query"


@pytest.fixture
def advisory_service() -> Iterator[AdvisoryService]:
    service = AdvisoryService({})
    thread = threading.Thread(target=service.server.serve_forever, daemon=True)
    thread.start()
    yield service
    service.server.shutdown()
    service.server.server_close()


def run_audit(env: dict[str, str], *locks: Path) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    return subprocess.run(
        [sys.executable, "-m", "scripts.audit", *map(str, locks)],
        cwd=REPO,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def pins(lock: Path) -> set[str]:
    return {
        line.split(" ", 1)[0].lower()
        for line in lock.read_text().splitlines()
        if line and line[0].isalnum() and "==" in line
    }


def test_no_reachable_service_is_a_plain_failure_not_a_pass(tmp_path: Path) -> None:
    """Every connection refused: pip-audit alone would say nothing is wrong."""
    refused = f"http://127.0.0.1:{_free_port()}"
    done = run_audit(
        {
            "HTTPS_PROXY": refused,
            "HTTP_PROXY": refused,
            "AUDIT_SERVICES": "osv pypi",
            "XDG_CACHE_HOME": str(tmp_path),
        },
        *LOCKS,
    )
    assert done.returncode == NOT_AUDITED, done.stdout + done.stderr
    for lock in LOCKS:
        assert f"{lock.name}: NOT AUDITED" in done.stdout
    assert "osv: no answer" in done.stdout
    assert "pypi: no answer" in done.stdout
    assert done.stdout.rstrip().endswith("have not been checked for advisories")
    assert "passed" not in done.stdout


def test_a_clean_answer_for_every_pin_passes(
    advisory_service: AdvisoryService, tmp_path: Path
) -> None:
    env = {
        "AUDIT_SERVICES": "osv",
        "AUDIT_OSV_URL": advisory_service.url,
        "XDG_CACHE_HOME": str(tmp_path),
    }
    done = run_audit(env, LOCKS[0])
    assert done.returncode == CLEAN, done.stdout + done.stderr
    runtime = pins(LOCKS[0])
    assert f"{len(runtime)} pins checked against osv: no known advisory" in done.stdout
    # Markers do not hide a pin: async-timeout serves only Pythons before 3.11.3.
    assert {pin.lower() for pin in advisory_service.asked} == runtime
    assert any(pin.startswith("async-timeout==") for pin in runtime)


def test_an_advisory_fails_the_audit_and_names_the_fix(
    advisory_service: AdvisoryService, tmp_path: Path
) -> None:
    advisory_service.advisories["idna"] = [ADVISORY]
    env = {
        "AUDIT_SERVICES": "osv",
        "AUDIT_OSV_URL": advisory_service.url,
        "XDG_CACHE_HOME": str(tmp_path),
    }
    done = run_audit(env, *LOCKS)
    assert done.returncode == VULNERABLE, done.stdout + done.stderr
    idna = next(pin for pin in pins(LOCKS[0]) if pin.startswith("idna=="))
    line = f"{idna.replace('==', ' ')}: CVE-0000-00000 / GHSA-test-0000-0000 (fixed in 99.0)"
    assert done.stdout.count(line) == 2  # idna is in both locks
    assert "--upgrade-package" in done.stdout


def test_a_service_that_skips_pins_is_not_a_pass() -> None:
    """pip-audit's own exit code is 0 here; the skipped pins decide."""
    report = {
        "dependencies": [
            {"name": "idna", "version": "3.20", "vulns": []},
            {"name": "h11", "skip_reason": "Dependency not found on PyPI and could not be audited"},
        ],
        "fixes": [],
    }
    verdict = judge("pypi", report)
    assert (verdict.checked, verdict.complete) == (1, False)
    assert "1 of 2 pins not checked" in verdict.why_incomplete()


def test_an_empty_report_is_not_a_pass() -> None:
    verdict = judge("osv", {"dependencies": [], "fixes": []})
    assert not verdict.complete
