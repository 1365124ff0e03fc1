"""PNG figures of the paper report (matplotlib, Agg backend); the numbers come from :mod:`.tables`.

Example:
    >>> import numpy as np, tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "fig3.png"
    >>> plot_zeta_heatmap(["RTE"], [42, 52], np.array([[0.0, 1.0]]), path).exists()
    True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise ValueError("the figures need matplotlib: pip install matplotlib, or pass --no-plots") from None

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(figure, path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.tight_layout()
    figure.savefig(path, dpi=150)
    _pyplot().close(figure)
    return path


def plot_zeta_heatmap(labels: Sequence[str], seeds: Sequence, matrix: np.ndarray, path: Path) -> Path:
    """Figure 3: normalised zeta per task (rows) and seed (columns)."""
    plt = _pyplot()
    figure, axes = plt.subplots(figsize=(max(6.0, 2.5 + 0.6 * len(seeds)), max(2.6, 1.4 + 0.45 * len(labels))))
    image = axes.imshow(np.ma.masked_invalid(matrix), cmap="viridis", vmin=0.0, vmax=1.0, aspect="auto")
    axes.set_xticks(range(len(seeds)), [str(seed) for seed in seeds])
    axes.set_yticks(range(len(labels)), labels)
    axes.set_xlabel("seed")
    for (row, column), value in np.ndenumerate(matrix):
        if not np.isnan(value):
            axes.text(column, row, f"{value:.2f}", ha="center", va="center", fontsize=7,
                      color="white" if value < 0.5 else "black")  # fmt: skip
    figure.colorbar(image, ax=axes, label="normalised zeta")
    axes.set_title("Normalised zeta per task and seed (per task: worst seed 0, best 1)", fontsize=10)
    return _save(figure, path)


def plot_size_correlations(correlations: Mapping[str, Mapping[str, float | None]], path: Path) -> Path:
    """Figure 2: Pearson r of training-set size with VAR, CON and CCON, one bar group per metric."""
    plt = _pyplot()
    metrics = ("var", "con", "ccon")
    models = list(correlations)
    width = 0.8 / max(len(models), 1)
    figure, axes = plt.subplots(figsize=(5.5, 3.5))
    for offset, model in enumerate(models):
        values = [correlations[model][metric] for metric in metrics]
        positions = np.arange(len(metrics)) + (offset - (len(models) - 1) / 2) * width
        heights = [0.0 if v is None else v for v in values]
        bars = axes.bar(positions, heights, width, label=f"{model} ({correlations[model]['n_tasks']} tasks)")
        # n/a: the metric is the same on every task, so r is undefined
        axes.bar_label(bars, labels=["n/a" if v is None else f"{v:.2f}" for v in values], fontsize=7)
    axes.set_xticks(range(len(metrics)), [metric.upper() for metric in metrics])
    axes.set_xlim(-0.5, len(metrics) - 0.5)
    axes.axhline(0.0, color="black", linewidth=0.8)
    axes.set_ylim(-1.1, 1.1)
    axes.set_ylabel("Pearson r with training size")
    axes.set_title("Correlation of training size with VAR, CON, CCON")
    axes.legend(fontsize=7)
    return _save(figure, path)


def plot_pairwise_consistency(seeds: Sequence, matrix: Sequence[Sequence[float]], title: str, path: Path) -> Path:
    """S x S heatmap of pairwise CON (or CCON) between seeds of one run."""
    plt = _pyplot()
    values = np.asarray(matrix, dtype=float)
    figure, axes = plt.subplots(figsize=(max(5.0, 2.0 + 0.6 * len(seeds)), max(4.0, 1.5 + 0.5 * len(seeds))))
    image = axes.imshow(values, cmap="magma", vmin=min(float(np.nanmin(values)), 0.9), vmax=1.0)
    ticks = [str(seed) for seed in seeds]
    axes.set_xticks(range(len(seeds)), ticks)
    axes.set_yticks(range(len(seeds)), ticks)
    for (row, column), value in np.ndenumerate(values):
        axes.text(column, row, f"{value:.3f}", ha="center", va="center", fontsize=7,
                  color="white" if value < (values.min() + 1) / 2 else "black")  # fmt: skip
    figure.colorbar(image, ax=axes)
    axes.set_title(title, fontsize=10)
    return _save(figure, path)


def plot_seeds_needed(result: Mapping, path: Path) -> Path:
    """Interval half-width against the number of seeds k (measured, and the fitted curve beyond), one panel per
    metric, with each target as a dashed line (the result of `seeds_needed`)."""
    plt = _pyplot()
    names = {"con": "CON", "ccon": "CCON", "var": "VAR", "zeta_mean": "mean zeta"}
    metrics = [m for m in names if result["rows"][0].get(f"{m}_mean") is not None]
    figure, axes = plt.subplots(1, len(metrics), figsize=(3.2 * len(metrics), 3.0), squeeze=False)
    for axis, metric in zip(axes[0], metrics):
        measured = [row for row in result["rows"] if row[f"{metric}_half_width"] is not None]
        axis.plot([r["k"] for r in measured], [r[f"{metric}_half_width"] for r in measured], "o", label="measured")
        fitted = result["extrapolated"]
        axis.plot([r["k"] for r in fitted], [r[f"{metric}_half_width"] for r in fitted], "-", label="fit")
        needed = result["seeds_needed"].get(metric)
        if needed:
            axis.axhline(needed["target"], linestyle="--", color="grey", label=f"target {needed['target']:g}")
            if needed["k"] is not None:
                axis.axvline(needed["k"], linestyle=":", color="grey")
        axis.set_xlabel("seeds k")
        axis.set_title(names[metric], fontsize=10)
        axis.set_ylim(bottom=0)
    axes[0][0].set_ylabel("interval half-width")
    axes[0][0].legend(fontsize=7)
    return _save(figure, path)
