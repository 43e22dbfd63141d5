"""``housing-api drift-report``: one HTML page a person can look at, a histogram per feature.

Each panel shows the training distribution's bins (from the manifest) beside
the share of the live window in the same bins, titled with the feature's PSI;
a drifted feature's panel is marked red. The charts are PNGs inlined as data
URIs, so the page is one file that opens anywhere and loads nothing.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence
from datetime import UTC, datetime

import numpy as np

from app.ml.distribution import DRIFT_THRESHOLD, FeatureDistribution, bin_fractions
from app.ml.drift import FeatureDrift, feature_drift
from app.ml.manifest import Manifest

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>Drift report</title>
<style>
body {{ font-family: sans-serif; margin: 2em; color: #222; }}
table {{ border-collapse: collapse; margin: 1em 0; }}
td, th {{ border: 1px solid #ccc; padding: 4px 10px; text-align: left; }}
.drifted {{ color: #b00020; font-weight: bold; }}
img {{ max-width: 100%; }}
</style></head><body>
<h1>Drift report</h1>
<p>Generated {generated}. PSI compares the newest logged predictions with the training data;
a feature has drifted when PSI &gt; {threshold}.</p>
{sections}
</body></html>
"""


def render_report(sections: Sequence[tuple[Manifest, Sequence[Sequence[float]]]]) -> str:
    """The whole page, one section per (manifest, live rows in the model's feature order)."""
    parts = [_section(manifest, rows) for manifest, rows in sections]
    return PAGE.format(
        generated=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        threshold=DRIFT_THRESHOLD,
        sections="\n".join(parts),
    )


def _section(manifest: Manifest, rows: Sequence[Sequence[float]]) -> str:
    drifts = feature_drift(manifest, rows)
    table = "\n".join(_row(drift) for drift in drifts)
    title = html.escape(f"{manifest.version} ({manifest.role}, {manifest.algorithm})")
    if not rows:
        return f"<h2>{title}</h2><p>No predictions logged yet.</p>"
    image = base64.b64encode(_histograms(manifest, rows, drifts)).decode()
    return (
        f"<h2>{title}</h2><p>{len(rows)} live predictions, "
        f"artifact <code>{manifest.sha256[:12]}</code></p>"
        f"<table><tr><th>feature</th><th>PSI</th><th>drifted</th></tr>{table}</table>"
        f'<img alt="training vs live histograms for {title}" '
        f'src="data:image/png;base64,{image}">'
    )


def _row(drift: FeatureDrift) -> str:
    css = ' class="drifted"' if drift.drifted else ""
    psi = "n/a" if drift.psi is None else f"{drift.psi:.3f}"
    return (
        f"<tr{css}><td>{html.escape(drift.name)}</td><td>{psi}</td>"
        f"<td>{'yes' if drift.drifted else 'no'}</td></tr>"
    )


def _histograms(
    manifest: Manifest, rows: Sequence[Sequence[float]], drifts: Sequence[FeatureDrift]
) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    matrix = np.asarray(rows, dtype=float)
    count = len(manifest.feature_names)
    columns = 3
    lines = -(-count // columns)
    figure, axes = pyplot.subplots(lines, columns, figsize=(5 * columns, 3.2 * lines), dpi=80)
    flat = np.atleast_1d(axes).ravel()
    for index, (name, drift) in enumerate(zip(manifest.feature_names, drifts, strict=True)):
        _panel(flat[index], name, drift, manifest.distribution[name], matrix[:, index])
    for axis in flat[count:]:
        axis.set_visible(False)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None})
    pyplot.close(figure)
    return buffer.getvalue()


def _panel(
    axis: object, name: str, drift: FeatureDrift, expected: FeatureDistribution, live: np.ndarray
) -> None:
    positions = np.arange(len(expected.fractions))
    live_share = bin_fractions(expected.cuts, live)
    axis.bar(positions - 0.2, expected.fractions, width=0.4, label="training")  # type: ignore[attr-defined]
    axis.bar(positions + 0.2, live_share, width=0.4, label="live")  # type: ignore[attr-defined]
    labels = [_bin_label(expected.cuts, index) for index in range(len(positions))]
    axis.set_xticks(positions, labels, rotation=45, fontsize=7)  # type: ignore[attr-defined]
    axis.set_ylabel("share of rows")  # type: ignore[attr-defined]
    colour = "#b00020" if drift.drifted else "black"
    axis.set_title(f"{name}  PSI {drift.psi:.3f}", color=colour)  # type: ignore[attr-defined]
    axis.legend(fontsize=8)  # type: ignore[attr-defined]


def _bin_label(cuts: Sequence[float], index: int) -> str:
    if not cuts:
        return "all"
    if index == 0:
        return f"<{cuts[0]:g}"
    if index == len(cuts):
        return f"≥{cuts[-1]:g}"
    return f"{cuts[index - 1]:g} to {cuts[index]:g}"
