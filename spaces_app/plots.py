"""Matplotlib figures of a seed_consistency report: the S x S pairwise heatmaps and the seed-by-metric map.

>>> from seed_consistency_metric import seed_consistency
>>> report = seed_consistency({42: [1, 1, 0], 52: [1, 0, 0], 62: [0, 1, 0]}, [1, 1, 0], pairwise=True)
>>> pairwise_figure(report).axes[0].get_title()
'CON (agreement between two seeds)'
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # the Space renders off-screen

import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from spaces_app.report_view import mean_with_other_seeds  # noqa: E402

ANNOTATE_UP_TO = 16  # seeds; larger matrices are shown without numbers in the cells
LABEL_UP_TO = 40  # seeds; beyond, only every k-th seed is named on the axes
MAX_SIDE_INCHES = 9.0


def _heatmap(ax, values: np.ndarray, rows: list[str], columns: list[str], colours: np.ndarray, title: str):
    image = ax.imshow(colours, cmap="viridis", vmin=0.0, vmax=1.0, aspect="auto")
    for set_ticks, names in ((ax.set_xticks, columns), (ax.set_yticks, rows)):
        step = -(-len(names) // LABEL_UP_TO)
        set_ticks(range(0, len(names), step), names[::step])
    ax.tick_params(axis="x", labelrotation=45 if len(columns) > 6 else 0)
    ax.set_title(title, fontsize=10)
    if max(values.shape) <= ANNOTATE_UP_TO:
        for (a, b), value in np.ndenumerate(values):
            if not np.isnan(value):
                ink = "black" if colours[a, b] > 0.6 else "white"
                ax.text(b, a, f"{value:.3f}", ha="center", va="center", color=ink, fontsize=8)
    return image


def pairwise_figure(report: dict) -> Figure:
    """CON (and, with references, CCON) between every two seeds, as S x S heatmaps on a 0-1 scale."""
    seeds = [str(s) for s in report["seeds"]]
    panels = [("con_matrix", "CON (agreement between two seeds)")]
    if report.get("ccon_matrix") is not None:
        panels.append(("ccon_matrix", "CCON (both seeds correct)"))
    side = min(2.2 + 0.45 * len(seeds), MAX_SIDE_INCHES)
    figure = Figure(figsize=(side * len(panels) + 1.2, side), layout="constrained")
    axes = figure.subplots(1, len(panels), squeeze=False)[0]
    for ax, (key, title) in zip(axes, panels, strict=True):
        matrix = np.asarray(report[key], dtype=float)
        image = _heatmap(ax, matrix, seeds, seeds, matrix, title)
        ax.set_xlabel("seed")
        ax.set_ylabel("seed")
    figure.colorbar(image, ax=list(axes), shrink=0.8)
    return figure


def seed_metric_figure(report: dict) -> Figure:
    """Seeds x (zeta, CON and CCON with the other seeds), like the paper's Figure 3.

    Cells show the values; colour is scaled within each column, so the best seed of a column is brightest.
    """
    seeds = [str(s) for s in report["seeds"]]
    columns, values = [], []
    if report.get("zeta") is not None:
        columns.append(report["zeta_name"])
        values.append(report["zeta"])
    for key, name in (("con_matrix", "CON"), ("ccon_matrix", "CCON")):
        if report.get(key) is not None:
            columns.append(name)
            values.append(mean_with_other_seeds(report[key]))
    matrix = np.asarray(values, dtype=float).T
    low, high = np.nanmin(matrix, axis=0), np.nanmax(matrix, axis=0)
    colours = np.where(high > low, (matrix - low) / np.where(high > low, high - low, 1.0), 0.5)
    height = min(1.0 + 0.4 * len(seeds), 2 * MAX_SIDE_INCHES)
    figure = Figure(figsize=(1.6 * len(columns) + 2.4, height), layout="constrained")
    ax = figure.subplots()
    _heatmap(ax, matrix, seeds, columns, colours, "Each seed: ζ and mean CON / CCON with the other seeds")
    ax.set_ylabel("seed")
    return figure
