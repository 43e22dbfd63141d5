"""``housing-api reload`` and ``housing-api drift-report``: operating the models in service."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

from app.ml.features import FEATURES
from app.ml.manifest import read_verified_manifest


def _reload(args: argparse.Namespace) -> int:
    from app.ml.reload_request import request_reload
    from app.settings import Settings

    settings = Settings()
    try:
        request = request_reload(settings.state_dir, settings.models_dir)
    except Exception as error:  # any reason it would not load: say it, change nothing
        print(f"housing-api: reload refused, the running models keep serving: {error}",
              file=sys.stderr)  # fmt: skip
        return 1
    for version, sha in sorted(request.sha256.items()):
        print(f"{version}: {sha}")
    print(
        f"reload requested in {settings.state_dir}: every worker sharing it swaps these in "
        f"within {settings.model_reload_poll_seconds:g} s"
    )
    return 0


def _drift_report(args: argparse.Namespace) -> int:
    from app.backends import prediction_sink
    from app.local_stack import StackStoreUnknown, settings_for_shell
    from app.monitoring.report import render_report

    try:
        settings = settings_for_shell()
    except StackStoreUnknown as exc:
        print(f"housing-api: refused: {exc}", file=sys.stderr)
        return 2
    versions = [args.version] if args.version else list(FEATURES)
    manifests = [read_verified_manifest(settings.models_dir / version) for version in versions]

    async def newest() -> list[list[list[float]]]:
        sink = prediction_sink(settings)
        try:
            windows = []
            for manifest in manifests:
                entries = await sink.newest(manifest.version, args.window)
                width = len(manifest.feature_names)
                windows.append([e.features for e in entries if len(e.features) == width])
            return windows
        finally:
            await sink.close()

    windows = asyncio.run(newest())
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render_report(list(zip(manifests, windows, strict=True))), encoding="utf-8")
    for manifest, rows in zip(manifests, windows, strict=True):
        print(f"{manifest.version}: {len(rows)} logged predictions compared")
    print(f"wrote {out}")
    return 0


def add_commands(commands: Any) -> None:
    reload = commands.add_parser(
        "reload", help="verify the artifacts on disk and have every worker swap them in"
    )
    reload.set_defaults(handler=_reload)

    drift = commands.add_parser(
        "drift-report", help="an HTML page of training vs live histograms, one per feature"
    )
    drift.add_argument("--version", choices=sorted(FEATURES), help="default: every version")
    drift.add_argument("--window", type=int, default=1000, help="newest predictions compared")
    drift.add_argument("--out", default="drift-report.html")
    drift.set_defaults(handler=_drift_report)
