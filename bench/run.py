"""``make bench``: the product through its real stack against the guide's app, in one run.

    make bench                       # 2 rounds of 8 s per target (about 2 minutes)
    .venv/bin/python -m bench.run --duration 8 --rounds 2 --out bench/RESULTS.md

Both servers run at once on this machine with 2 workers each; wrk (2 threads,
64 connections) alternates between them target by target, round after round
(A/B/A/B), so a change in the machine's load hits both sides alike. Figures
are reported as ratios to the guide's app measured in the same run; no
absolute number from one machine means much on another.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import statistics
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

from bench import wrk
from bench.guide_model import train
from bench.processes import REPO, UNLIMITED, Guide, Stack, guide_app, product_stack, rss_mib
from bench.redis_keys import LARGE_BYTES, KeySize, largest_keys

V1 = {"lotsize": 5850, "bedrooms": 3, "bathrms": 1, "stories": 2, "garagepl": 1}
V2 = {**V1, "driveway": True, "recroom": False, "fullbase": True, "gashw": False,
      "airco": False, "prefarea": False}  # fmt: skip
BATCH = 1000
ANALYSIS = "## Against the targets, and what bounds them"


@dataclass(frozen=True)
class Target:
    name: str
    rows: int
    request: Callable[[Guide, Stack, dict[str, str]], wrk.Request]


def _json(url: str, body: object, *headers: tuple[str, str]) -> wrk.Request:
    return wrk.Request(
        "POST", url, json.dumps(body), (("Content-Type", "application/json"), *headers)
    )


GUIDE = Target(
    "guide's app: POST /predict (v1)", 1, lambda g, s, c: _json(g.base_url + "/predict", V1)
)
TARGETS = [
    Target("product: POST /v1/predict (API key)", 1,
           lambda g, s, c: _json(s.base_url + "/v1/predict", V1, ("X-API-Key", c["key"]))),
    Target("product: POST /v1/predict (JWT)", 1,
           lambda g, s, c: _json(s.base_url + "/v1/predict", V1,
                                 ("Authorization", f"Bearer {c['token']}"))),
    Target("product: POST /v2/predict (API key)", 1,
           lambda g, s, c: _json(s.base_url + "/v2/predict", V2, ("X-API-Key", c["key"]))),
    Target(f"product: POST /v1/predict/batch ({BATCH} rows)", BATCH,
           lambda g, s, c: _json(s.base_url + "/v1/predict/batch", {"instances": [V1] * BATCH},
                                 ("X-API-Key", c["key"]))),
    Target(f"product: POST /v2/predict/batch ({BATCH} rows)", BATCH,
           lambda g, s, c: _json(s.base_url + "/v2/predict/batch", {"instances": [V2] * BATCH},
                                 ("X-API-Key", c["key"]))),
]  # fmt: skip


def credentials(stack: Stack) -> dict[str, str]:
    """A token for the first admin and a predict key whose limit never refuses."""
    username, password = stack.admin
    with httpx.Client(base_url=stack.base_url, verify=str(stack.ca_file), timeout=30) as client:
        form = {"grant_type": "password", "username": username, "password": password}
        token = client.post("/token", data=form).raise_for_status().json()["access_token"]
        body = {"name": "benchmark", "scopes": ["predict"], "rate_limit": UNLIMITED}
        created = client.post(
            "/admin/keys", json=body, headers={"Authorization": f"Bearer {token}"}
        )
        return {"token": token, "key": str(created.raise_for_status().json()["key"])}


@dataclass
class Row:
    target: Target
    runs: list[wrk.Measurement]

    @property
    def rps(self) -> float:
        return statistics.median(run.requests_per_second for run in self.runs)

    @property
    def p50(self) -> float:
        return statistics.median(run.p50_ms for run in self.runs)

    @property
    def p99(self) -> float:
        return statistics.median(run.p99_ms for run in self.runs)

    @property
    def errors(self) -> int:
        return sum(run.errors for run in self.runs)

    @property
    def timeouts(self) -> int:
        return sum(run.timeouts for run in self.runs)


def measure(
    args: argparse.Namespace, work: Path
) -> tuple[list[Row], dict[str, list[float]], list[KeySize]]:
    model = train(REPO / "data" / "housing.csv", work / "guide-model.joblib")
    rows = [Row(GUIDE, []), *(Row(target, []) for target in TARGETS)]
    with guide_app(model, work / "guide.log") as guide, product_stack(work / "stack") as stack:
        creds = credentials(stack)
        for round_number in range(args.rounds):
            for row in rows[1:]:
                # A/B: the guide's app right before each product target, every round.
                for measured in (rows[0], row):
                    request = measured.target.request(guide, stack, creds)
                    result = wrk.run(request, threads=args.threads, connections=args.connections,
                                     duration=args.duration)  # fmt: skip
                    measured.runs.append(result)
                    print(f"round {round_number + 1}: {measured.target.name}: "
                          f"{result.requests_per_second:,.0f} req/s, p99 {result.p99_ms:.1f} ms, "
                          f"{result.errors} errors", file=sys.stderr, flush=True)  # fmt: skip
        rss = {
            "guide's app": [rss_mib(pid) for pid in guide.worker_pids()],
            "product (Gunicorn workers)": [rss_mib(pid) for pid in stack.worker_pids()],
        }
        keys = largest_keys(stack.state_dir)
    return rows, rss, keys


def render(rows: list[Row], rss: dict[str, list[float]], keys: list[KeySize],
           args: argparse.Namespace, command: str) -> str:  # fmt: skip
    guide = rows[0]
    cpu = next((line.split(":", 1)[1].strip() for line in
                Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("model name")),
               platform.machine())  # fmt: skip
    lines = [
        "# Benchmark: the product against the guide's app",
        "",
        f"Generated by `{command}` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC: the tables; "
        f"the analysis after them (`{ANALYSIS}`) is written by hand and kept across runs.",
        "",
        f"Machine: {len(os.sched_getaffinity(0))} cores ({cpu}), shared by both servers and wrk. "
        f"wrk: {args.threads} threads, {args.connections} connections, {args.duration} s per "
        f"measurement, {args.rounds} rounds, A/B/A/B (the guide's app measured right before each "
        "product target). Figures are medians over rounds; ratios are to the guide's app in "
        "the same run. *errors* are non-2xx answers and broken connections; *over 2 s* are "
        "requests wrk stopped waiting for (its timeout), counted apart.",
        "",
        "- guide's app: `uvicorn bench.guide_app:app --workers 2`, plain HTTP, no auth, "
        "scikit-learn `LinearRegression.predict` per request (`bench/guide_app.py`).",
        "- product: `make stack` — nginx (HTTPS) → Gunicorn with 2 Uvicorn workers → Redis "
        "(the GCRA rate-limit step; credentials answered from each worker's cache).",
        "",
        "| target | req/s | rows/s | vs guide | p50 ms | p99 ms | p99 vs guide | errors "
        "| over 2 s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for row in rows:
        lines.append(
            f"| {row.target.name} | {row.rps:,.0f} | {row.rps * row.target.rows:,.0f} | "
            f"{row.rps / guide.rps:.2f} | {row.p50:.1f} | {row.p99:.1f} | "
            f"{row.p99 / guide.p99:.2f} | {row.errors} | {row.timeouts} |"
        )
    lines += ["", "Resident memory per worker after the run (MiB):", ""]
    for name, sizes in rss.items():
        lines.append(f"- {name}: {', '.join(f'{size:.0f}' for size in sizes)}")
    lines += [
        "",
        f"Largest Redis keys after the run (a key over {LARGE_BYTES // 1024} KiB that is not a "
        "capped stream would mean per-client state grows with traffic):",
        "",
    ]
    lines += [f"- `{key.name}` ({key.type}): {key.bytes:,} bytes" for key in keys] or ["- none"]
    return "\n".join(lines) + "\n"


def kept_analysis(path: Path) -> str:
    """The hand-written section of an earlier report, so a new run does not erase it."""
    if not path.is_file():
        return ""
    # The heading on a line of its own: the generated intro names it too.
    _, marker, analysis = path.read_text(encoding="utf-8").partition(f"\n{ANALYSIS}\n")
    return f"{marker}{analysis}" if marker else ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "RESULTS.md")
    args = parser.parse_args(argv)
    command = "python -m bench.run " + shlex.join(argv if argv is not None else sys.argv[1:])
    with tempfile.TemporaryDirectory(prefix="housing-bench-") as work:
        # The stack's state dir is inside: nginx's workers must pass through.
        Path(work).chmod(0o711)
        rows, rss, keys = measure(args, Path(work))
    report = render(rows, rss, keys, args, command.strip()) + kept_analysis(args.out)
    args.out.write_text(report, encoding="utf-8")
    print(report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
