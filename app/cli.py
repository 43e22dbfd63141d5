"""The ``housing-api`` command: serve, train, reload, drift-report, create-user, create-key."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from app import admin_cli, ops_cli


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from app.server import protocol_with_deadline
    from app.settings import Settings

    settings = Settings()
    if missing := missing_models(settings.models_dir):
        print(
            f"housing-api: no trained model at {', '.join(missing)}: "
            "run `make model` (or `housing-api train`) first",
            file=sys.stderr,
        )
        return 2
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        http=protocol_with_deadline(settings.header_timeout_seconds),
        proxy_headers=False,  # the app resolves client IPs itself (TRUSTED_PROXIES)
        server_header=False,
        log_config=None,
    )
    return 0


def missing_models(models_dir: Path) -> list[str]:
    from app.ml.features import FEATURES
    from app.ml.manifest import MANIFEST_NAME

    return [
        str(models_dir / version)
        for version in FEATURES
        if not (models_dir / version / MANIFEST_NAME).is_file()
    ]


def _train(args: argparse.Namespace) -> int:
    from app.ml.card import PLOT_NAME, render_card
    from app.ml.plot import holdout_plot
    from app.ml.train import CV, NotPublishable, train_all

    try:
        manifests, fitted = train_all(Path(args.data), Path(args.out), args.seed)
    except NotPublishable as refusal:
        print(f"refused: {refusal}", file=sys.stderr)
        return 1
    for manifest in manifests:
        ours, theirs = manifest.metrics[CV], manifest.baseline[CV]
        print(
            f"{manifest.version}: CV R²(log) {ours['r2_log_price']:.3f} "
            f"(baseline {theirs['r2_log_price']:.3f}), MAE {ours['mae_price']:,.0f} CAD "
            f"(baseline {theirs['mae_price']:,.0f}), sha256 {manifest.sha256[:12]}…"
        )
    card = Path(args.card)
    card.parent.mkdir(parents=True, exist_ok=True)
    card.write_text(render_card(manifests))
    holdout_plot(
        [(f"{f.version} ({f.manifest.role})", *f.holdout) for f in fitted], card.parent / PLOT_NAME
    )
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
    train.add_argument(
        "--seed", type=int, help="split and fold seed (default: the committed card's)"
    )
    train.set_defaults(handler=_train)

    ops_cli.add_commands(commands)
    admin_cli.add_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from pydantic import ValidationError

    args = build_parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except ValidationError as invalid:  # a bad setting: say which, in one line per problem
        for error in invalid.errors():
            name = ".".join(str(part) for part in error["loc"]).upper() or "settings"
            print(f"housing-api: bad setting {name}: {error['msg']}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
