"""Predicted against actual prices on the held-out split, one panel per version, as a PNG.

matplotlib is imported here only, with the Agg backend and no timestamp in
the file's metadata, so the same training run draws the same bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np


def holdout_plot(panels: Sequence[tuple[str, np.ndarray, np.ndarray]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    figure, axes = pyplot.subplots(1, len(panels), figsize=(5 * len(panels), 4.6), dpi=100)
    for axis, (title, actual, predicted) in zip(np.atleast_1d(axes), panels, strict=True):
        low, high = 20_000, 200_000
        axis.plot([low, high], [low, high], color="grey", linewidth=1, label="perfect")
        axis.scatter(actual, predicted, s=14, alpha=0.7)
        axis.set(xlim=(low, high), ylim=(low, high), title=title)
        axis.set_xlabel("actual price (CAD, 1987)")
        axis.set_ylabel("predicted price (CAD, 1987)")
        axis.legend(loc="upper left")
    figure.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, format="png", metadata={"Software": None})
    pyplot.close(figure)
