"""The ``housing-api`` command: serve, train, create-user, create-key."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from pathlib import Path

from app.admin_cli import add_commands


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from app.settings import Settings

    settings = Settings()
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        proxy_headers=False,  # the app resolves client IPs itself (TRUSTED_PROXIES)
        server_header=False,
        log_config=None,
    )
    return 0


def _train(args: argparse.Namespace) -> int:
    from app.ml.card import render_card
    from app.ml.train import train_all

    manifests = train_all(Path(args.data), Path(args.out))
    for manifest in manifests:
        holdout = manifest.metrics["holdout"]
        print(
            f"{manifest.version}: holdout R² {holdout['r2_price']:.3f}, "
            f"MAE {holdout['mae_price']:,.0f} CAD, sha256 {manifest.sha256[:12]}…"
        )
    Path(args.card).parent.mkdir(parents=True, exist_ok=True)
    Path(args.card).write_text(render_card(manifests))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="housing-api", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="serve the API on HOST:PORT (embedded default)")
    serve.set_defaults(handler=_serve)

    train = commands.add_parser("train", help="train every model version")
    train.add_argument("--data", default="data/housing.csv")
    train.add_argument("--out", default=os.environ.get("MODELS_DIR", "models"))
    train.add_argument("--card", default="docs/MODEL_CARD.md")
    train.set_defaults(handler=_train)

    add_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.handler(args))


if __name__ == "__main__":
    raise SystemExit(main())
