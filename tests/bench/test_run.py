"""`make bench` keeps working: one short round end to end. No timing is asserted, only the shape."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from bench.run import GUIDE, TARGETS
from bench.wrk import parse

REPO = Path(__file__).resolve().parents[2]

WRK_REPORT = """Running 1s test @ http://127.0.0.1:1/predict
  2 threads and 64 connections
  Latency Distribution
     50%    1.50ms
     75%    2.00ms
     90%    3.00ms
     99%  250.00us
  1234 requests in 1.00s, 200.00KB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 4
Requests/sec:   1234.50
"""


def test_a_wrk_report_is_read_with_units_and_every_kind_of_error() -> None:
    measurement = parse(WRK_REPORT)
    assert measurement.requests_per_second == 1234.5
    assert measurement.p50_ms == 1.5
    assert measurement.p99_ms == 0.25
    assert measurement.requests == 1234
    assert measurement.errors == 6
    assert measurement.timeouts == 1


@pytest.mark.stack
def test_one_short_round_reports_every_target_without_errors(tmp_path: Path) -> None:
    out = tmp_path / "RESULTS.md"
    result = subprocess.run(
        [sys.executable, "-m", "bench.run", "--duration", "1", "--rounds", "1",
         "--connections", "8", "--out", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    report = out.read_text()
    table = [line for line in report.splitlines() if line.startswith("| ") and "target" not in line]
    assert [line.split(" | ")[0].lstrip("| ") for line in table] == [
        target.name for target in (GUIDE, *TARGETS)
    ]
    assert all(line.split(" | ")[-2] == "0" for line in table), report  # no errors
    assert "Resident memory per worker" in report
    assert "Largest Redis keys" in report


def test_a_new_run_keeps_the_hand_written_analysis(tmp_path: Path) -> None:
    from bench.run import ANALYSIS, kept_analysis

    report = tmp_path / "RESULTS.md"
    assert kept_analysis(report) == ""
    report.write_text(f"# old tables\n| a | b |\n\n{ANALYSIS}\n\nWhy it is slow.\n")
    assert kept_analysis(report) == f"\n{ANALYSIS}\n\nWhy it is slow.\n"
    # The generated intro names the heading inline: only the heading line counts.
    intro = f"# tables\nthe analysis after them (`{ANALYSIS}`) is kept.\n| a |\n"
    report.write_text(f"{intro}\n{ANALYSIS}\n\nWhy it is slow.\n")
    assert kept_analysis(report) == f"\n{ANALYSIS}\n\nWhy it is slow.\n"
    report.write_text("# tables only\n")
    assert kept_analysis(report) == ""
