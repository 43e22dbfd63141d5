"""Render ``nginx/nginx.conf.template`` for compose and for the local stack.

One template keeps the two edges identical in everything that matters
(TLS, headers, limits, timeouts); only paths, ports and upstreams differ.
The compose rendering is checked in as ``nginx/nginx.conf`` and a test keeps
it equal to ``render(compose_values())``.
"""

from __future__ import annotations

import grp
import re
from collections.abc import Iterable, Mapping
from pathlib import Path

from scripts.stack.config import REPO_DIR, StackConfig
from scripts.stack.pki import TlsFiles
from scripts.stack.sockets import edge_user

TEMPLATE = REPO_DIR / "nginx" / "nginx.conf.template"
COMPOSE_CONF = REPO_DIR / "nginx" / "nginx.conf"
PLACEHOLDER = re.compile(r"\{\{\s*([a-z_]+)\s*\}\}")
CONN_LIMIT_PER_IP = 100
"""Concurrent connections (HTTP/2: streams) per client address."""
TEMP_KINDS = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
UNSAFE_IN_PATH = re.compile(r"[\"'$;{}\s\\]")


UPSTREAM_KEEPALIVE = 32
"""Idle connections to the app each nginx worker keeps for reuse (``keepalive``)."""
ENTRIES_PER_ADDRESS = UPSTREAM_KEEPALIVE + 2
"""How many times ``upstream_servers`` lists each app address: see there."""


def upstream_servers(addresses: Iterable[str]) -> str:
    """Each app address ``ENTRIES_PER_ADDRESS`` times, never marked down.

    nginx tries a request at most once per upstream entry, and a request that
    may be retried (``proxy_next_upstream``) needs more than one try when an
    app worker dies. Killing one Gunicorn worker (``kill -9``) under 16
    concurrent predictions, with each address listed twice, then three times,
    failed 1 to 2 requests in half of the rounds with a 502: the requests in
    flight on the dead worker were retried, and each retry took another idle
    cached connection to that same worker, dead too but not yet noticed
    (the kernel closes them all at once; nginx sees the closes one event at a
    time), until the entries ran out ("no live upstreams").

    Every failed try on a dead cached connection removes that connection from
    the cache, and the cache holds at most ``UPSTREAM_KEEPALIVE`` of them, so
    a request's tries can fail at most ``1 + UPSTREAM_KEEPALIVE`` times (the
    connection it was in flight on, then every cached one) before one opens
    a fresh connection, which the surviving workers accept: hence that many
    entries plus one. ``max_fails=0`` keeps a failure from marking the
    address down for everyone else. Only retried requests (idempotent ones,
    and the predictions; see the template) benefit; others fail at the first
    error as before.

    The addresses take turns in the list (a, b, a, b, ...): nginx's round
    robin walks equal entries in order, and with each address's entries
    together a burst of 40 requests all went to one of two instances.
    """
    addresses = list(addresses)
    return "\n".join(
        f"        server {address} max_fails=0;"
        for _ in range(ENTRIES_PER_ADDRESS)
        for address in addresses
    )


class TemplateError(ValueError):
    """A placeholder without a value, or a value without a placeholder."""


def render(values: Mapping[str, str], template: str | None = None) -> str:
    text = TEMPLATE.read_text(encoding="utf-8") if template is None else template
    wanted = set(PLACEHOLDER.findall(text))
    if missing := wanted - values.keys():
        raise TemplateError(f"no value for placeholders: {', '.join(sorted(missing))}")
    if unused := values.keys() - wanted:
        raise TemplateError(f"values for unknown placeholders: {', '.join(sorted(unused))}")
    return PLACEHOLDER.sub(lambda match: values[match.group(1)], text)


def compose_values() -> dict[str, str]:
    """The official nginx image: certificates mounted at /etc/nginx/tls, app at app:8000."""
    return {
        "origin": f"# GENERATED from {TEMPLATE.name}: edit that, then run "
        "`python -m scripts.stack render-nginx`.",
        "user_directive": "user nginx;",
        "pid_file": "/var/run/nginx.pid",
        "error_log": "/dev/stderr",
        "daemon_directive": "# daemon off: the image's command passes it with -g",
        "access_log": "/dev/stdout",
        "temp_paths": "    # temp paths: the image's defaults",
        "conn_limit_per_ip": str(CONN_LIMIT_PER_IP),
        "upstream_servers": upstream_servers(["app:8000"]),
        "upstream_keepalive": str(UPSTREAM_KEEPALIVE),
        "http_listen": "80",
        "https_listen": "443",
        "https_port_suffix": "",
        "public_host": "localhost",
        "tls_certificate": "/etc/nginx/tls/server.pem",
        "tls_certificate_key": "/etc/nginx/tls/server.key",
        "tls_dhparam": "/etc/nginx/tls/dhparam.pem",
    }


def local_values(config: StackConfig, tls: TlsFiles, app_sockets: Iterable[Path]) -> dict[str, str]:
    """The edge on loopback, the app on unix sockets, every path under ``$STATE_DIR``."""
    temp_dir = config.nginx_dir / "temp"
    temp_paths = "\n".join(f"    {kind}_temp_path {_path(temp_dir / kind)};" for kind in TEMP_KINDS)
    servers = upstream_servers(f"unix:{_path(path)}" for path in app_sockets)
    suffix = "" if config.https_port == 443 else f":{config.https_port}"
    return {
        "origin": f"# Generated by `make stack` from {TEMPLATE.relative_to(REPO_DIR)}.",
        "user_directive": _user_directive(),
        "pid_file": _path(config.nginx_dir / "nginx.pid"),
        "error_log": _path(config.log_dir / "nginx-error.log"),
        "daemon_directive": "daemon off;",
        "access_log": _path(config.log_dir / "nginx-access.log"),
        "temp_paths": temp_paths,
        "conn_limit_per_ip": str(CONN_LIMIT_PER_IP),
        "upstream_servers": servers,
        "upstream_keepalive": str(UPSTREAM_KEEPALIVE),
        "http_listen": f"127.0.0.1:{config.http_port}",
        "https_listen": f"127.0.0.1:{config.https_port}",
        "https_port_suffix": suffix,
        "public_host": config.public_host,
        "tls_certificate": _path(tls.certificate),
        "tls_certificate_key": _path(tls.key),
        "tls_dhparam": _path(tls.dhparam),
    }


def _user_directive() -> str:
    """Started as root, nginx drops its workers to ``nobody``.

    The workers need no file access of their own but the app's sockets
    (``sockets.py``): certificates and logs are opened by the master, request
    bodies stay in memory (the body buffer is as large as the cap) and
    responses are never spooled to disk.
    """
    user = edge_user()
    if user is None:
        return "# user: nginx runs as the invoking user"
    name, gid = user
    return f"user {name} {grp.getgrgid(gid).gr_name};"


def _path(path: Path) -> str:
    text = str(path)
    if UNSAFE_IN_PATH.search(text):
        raise TemplateError(f"path unusable in an nginx config (quotes, $, ;, braces): {text}")
    return text
