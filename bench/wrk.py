"""One wrk measurement: a Lua script for the request, and the figures parsed from its report."""

from __future__ import annotations

import re
import subprocess
import tempfile
from dataclasses import dataclass

LUA = """
wrk.method = {method}
wrk.body = {body}
{headers}
"""

_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


@dataclass(frozen=True)
class Request:
    method: str
    url: str
    body: str | None = None
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Measurement:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int
    """Non-2xx answers plus connect, read and write errors."""
    timeouts: int = 0
    """Requests wrk gave up on after its 2 s timeout (slow, not failed, answers)."""


def _lua_string(value: str) -> str:
    return "[==[" + value + "]==]"


def lua_script(request: Request) -> str:
    headers = "\n".join(
        f"wrk.headers[ {_lua_string(name)} ] = {_lua_string(value)}"
        for name, value in request.headers
    )
    body = _lua_string(request.body) if request.body is not None else "nil"
    return LUA.format(method=_lua_string(request.method), body=body, headers=headers)


def _milliseconds(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if match is None:
        raise ValueError(f"unreadable wrk latency {text!r}")
    return float(match.group(1)) * _UNITS_MS[match.group(2)]


def parse(report: str) -> Measurement:
    def number(pattern: str) -> str:
        match = re.search(pattern, report, re.MULTILINE)
        if match is None:
            raise ValueError(f"wrk report lacks {pattern!r}:\n{report}")
        return match.group(1)

    socket_errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", report
    )
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", report)
    errors = int(non_2xx.group(1)) if non_2xx else 0
    timeouts = 0
    if socket_errors:
        connect, read, write, timeouts = (int(group) for group in socket_errors.groups())
        errors += connect + read + write
    return Measurement(
        requests_per_second=float(number(r"Requests/sec:\s+([\d.]+)")),
        p50_ms=_milliseconds(number(r"^\s+50%\s+(\S+)")),
        p99_ms=_milliseconds(number(r"^\s+99%\s+(\S+)")),
        requests=int(number(r"(\d+) requests in")),
        errors=errors,
        timeouts=timeouts,
    )


def run(request: Request, *, threads: int, connections: int, duration: int) -> Measurement:
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        script.write(lua_script(request))
        script.flush()
        command = [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{duration}s",
            "--latency",
            "-s",
            script.name,
            request.url,
        ]
        report = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return parse(report)
