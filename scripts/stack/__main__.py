"""Command line: ``python -m scripts.stack up|down|status|render-nginx``.

``render-nginx`` rewrites the checked-in compose config, ``nginx/nginx.conf``,
from ``nginx/nginx.conf.template`` after the template changes.
"""

from __future__ import annotations

import argparse
import os
import sys

from scripts.stack.config import ConfigError, StackConfig
from scripts.stack.nginx_conf import COMPOSE_CONF, compose_values, render
from scripts.stack.orchestrate import StackError, down, print_info, status, up


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m scripts.stack", description=__doc__)
    parser.add_argument("command", choices=["up", "down", "status", "render-nginx"])
    args = parser.parse_args(argv)
    try:
        config = StackConfig.from_env(os.environ)
    except ConfigError as error:
        sys.stderr.write(f"stack: {error}\n")
        return 2

    if args.command == "up":
        try:
            print_info(up(config, dict(os.environ)))
        except (StackError, ConfigError) as error:
            sys.stderr.write(f"stack: failed to start: {error}\n")
            return 1
    elif args.command == "down":
        stopped = down(config)
        sys.stdout.write(f"stack: stopped {', '.join(stopped) or 'nothing (not running)'}\n")
    elif args.command == "render-nginx":
        COMPOSE_CONF.write_text(render(compose_values()), encoding="utf-8")
        sys.stdout.write(f"stack: wrote {COMPOSE_CONF}\n")
    else:
        for name, pid in status(config).items():
            sys.stdout.write(f"{name}: {'running, pid ' + str(pid) if pid else 'not running'}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
