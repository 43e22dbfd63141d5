"""Load benchmark through the real stack (nginx TLS → Gunicorn → app → Redis), with wrk.

Run against a stack started by ``make stack`` (same STATE_DIR and FIRST_ADMIN_*):

    FIRST_ADMIN_USERNAME=admin FIRST_ADMIN_PASSWORD=... make stack
    FIRST_ADMIN_USERNAME=admin FIRST_ADMIN_PASSWORD=... .venv/bin/python -m bench.wrk
    make stack-down

Each target is measured for DURATION seconds; ``/healthz`` (TLS, nginx, Gunicorn,
the app's middleware, no credential, no model, no store) is the baseline, and
every other figure is reported as a ratio to it, so numbers from different
machines compare. The key used has a limit high enough never to refuse.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass

import httpx

from app.predict.schemas import HousingFeatures, HousingFeaturesV2, example_body
from scripts.stack.config import StackConfig
from scripts.stack.orchestrate import StackInfo

V1 = example_body(HousingFeatures)
V2 = example_body(HousingFeaturesV2)
BATCH = 100


@dataclass(frozen=True)
class Target:
    name: str
    method: str
    path: str
    body: dict | None = None


TARGETS = [
    Target("baseline: GET /healthz", "GET", "/healthz"),
    Target("GET /v1/model (credential + limit)", "GET", "/v1/model"),
    Target("POST /v1/predict", "POST", "/v1/predict", V1),
    Target("POST /v2/predict", "POST", "/v2/predict", V2),
    Target(f"POST /v1/predict/batch ({BATCH} rows)", "POST", "/v1/predict/batch",
           {"instances": [V1] * BATCH}),
    Target(f"POST /v2/predict/batch ({BATCH} rows)", "POST", "/v2/predict/batch",
           {"instances": [V2] * BATCH}),
]  # fmt: skip

LUA = """
wrk.method = {method}
wrk.body = {body}
wrk.headers["Content-Type"] = "application/json"
wrk.headers["X-API-Key"] = {key}
"""


def _lua_string(value: str) -> str:
    return "[==[" + value + "]==]"


def make_key(info: StackInfo) -> str:
    username = os.environ["FIRST_ADMIN_USERNAME"]
    password = os.environ["FIRST_ADMIN_PASSWORD"]
    with httpx.Client(base_url=info.base_url, verify=info.ca_certificate) as client:
        form = {"grant_type": "password", "username": username, "password": password}
        token = client.post("/token", data=form).raise_for_status().json()["access_token"]
        body = {"name": "benchmark", "scopes": ["predict"], "rate_limit": "100000000/minute"}
        created = client.post(
            "/admin/keys", json=body, headers={"Authorization": f"Bearer {token}"}
        )
        return str(created.raise_for_status().json()["key"])


def run_wrk(info: StackInfo, target: Target, key: str, args: argparse.Namespace) -> dict:
    script = LUA.format(
        method=_lua_string(target.method),
        body=_lua_string(json.dumps(target.body)) if target.body else "nil",
        key=_lua_string(key),
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as lua:
        lua.write(script)
        lua.flush()
        command = ["wrk", f"-t{args.threads}", f"-c{args.connections}", f"-d{args.duration}s",
                   "--latency", "-s", lua.name, info.base_url + target.path]  # fmt: skip
        output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1)),  # type: ignore[union-attr]
        "p50": re.search(r"^\s+50%\s+(\S+)", output, re.M).group(1),  # type: ignore[union-attr]
        "p99": re.search(r"^\s+99%\s+(\S+)", output, re.M).group(1),  # type: ignore[union-attr]
        "non2xx": int(m.group(1)) if (m := re.search(r"Non-2xx.*?(\d+)", output)) else 0,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install -y wrk)")
    info = StackInfo.load(StackConfig.from_env(os.environ).run_dir)
    key = make_key(info)
    print(f"{'target':<36} {'req/s':>9} {'ratio':>7} {'p50':>9} {'p99':>9} {'non-2xx':>8}")
    baseline = None
    for target in TARGETS:
        result = run_wrk(info, target, key, args)
        baseline = baseline or result["rps"]
        print(f"{target.name:<36} {result['rps']:>9.0f} {result['rps'] / baseline:>7.2f} "
              f"{result['p50']:>9} {result['p99']:>9} {result['non2xx']:>8}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
