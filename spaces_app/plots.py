"""Matplotlib figures of a seed_consistency report: the S x S pairwise heatmaps and the seed-by-metric map.

Colours are scaled to the data (values between seeds often sit in 0.90-0.97, where a 0-1 scale shows one colour),
and every figure says what its colours mean: a colour bar with the range, or a note that a column has its own scale.

>>> from seed_consistency_metric import seed_consistency
>>> report = seed_consistency({42: [1, 1, 0], 52: [1, 0, 0], 62: [0, 1, 0]}, [1, 1, 0], pairwise=True)
>>> pairwise_figure(report).axes[0].get_title()
'CON: share of examples two seeds agree on'
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # the Space renders off-screen

import numpy as np  # noqa: E402
from matplotlib import colormaps  # noqa: E402
from matplotlib.colors import Normalize  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from spaces_app.report_view import mean_with_other_seeds  # noqa: E402

ANNOTATE_UP_TO = 16  # seeds; larger matrices are shown without numbers in the cells
LABEL_UP_TO = 40  # seeds; beyond, only every k-th seed is named on the axes
MAX_SIDE_INCHES = 9.0
CELL_FONT = 10  # points; the PNG is 100 dpi and shown at about its own width in the page
DIAGONAL_GREY = "#d9d9d9"
CMAP = "viridis"


def data_range(values: np.ndarray) -> tuple[float, float]:
    """(low, high) of the finite values, widened to at least 0.01 so that equal values still get a scale.

    >>> data_range(np.array([0.93, 0.95, np.nan]))
    (0.93, 0.95)
    """
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        return 0.0, 1.0
    low, high = float(finite.min()), float(finite.max())
    if high - low < 0.01:
        middle = (low + high) / 2
        low, high = middle - 0.005, middle + 0.005
    return low, high


def _heatmap(ax, values, rows, columns, colours, norm, title, grey=None):
    """Cells coloured by `colours` under `norm` (NaN: grey), each with its number from `values` if small enough."""
    cmap = colormaps[CMAP].with_extremes(bad=DIAGONAL_GREY)
    image = ax.imshow(np.ma.masked_invalid(colours), cmap=cmap, norm=norm, aspect="auto")
    for set_ticks, names in ((ax.set_xticks, columns), (ax.set_yticks, rows)):
        step = -(-len(names) // LABEL_UP_TO)
        set_ticks(range(0, len(names), step), names[::step])
    ax.tick_params(axis="x", labelrotation=45 if len(columns) > 6 else 0)
    ax.set_title(title, fontsize=11)
    if max(values.shape) <= ANNOTATE_UP_TO:
        for (a, b), value in np.ndenumerate(values):
            if np.isnan(value):
                continue
            shade = norm(colours[a, b]) if np.isfinite(colours[a, b]) else 1.0
            ink = "black" if shade > 0.55 else "white"
            ax.text(b, a, f"{value:.3f}", ha="center", va="center", color=ink, fontsize=CELL_FONT)
    return image


def pairwise_figure(report: dict) -> Figure:
    """CON (and, with references, CCON) between every two seeds, as S x S heatmaps.

    Each panel's colours span its own off-diagonal values (shown on its colour bar); the diagonal is grey: CON of a
    seed with itself is always 1, and the CCON diagonal is the seed's own share of correct examples.
    """
    seeds = [str(s) for s in report["seeds"]]
    panels = [("con_matrix", "CON: share of examples two seeds agree on", "diagonal: 1, a seed agrees with itself")]
    if report.get("ccon_matrix") is not None:
        panels.append(
            ("ccon_matrix", "CCON: share both seeds get right", "diagonal (grey): the seed's own share correct")
        )
    side = min(2.6 + 0.55 * len(seeds), MAX_SIDE_INCHES)
    figure = Figure(figsize=((side + 1.0) * len(panels), side + 0.6), layout="constrained")
    axes = figure.subplots(1, len(panels), squeeze=False)[0]
    for ax, (key, title, diagonal) in zip(axes, panels, strict=True):
        matrix = np.asarray(report[key], dtype=float)
        colours = matrix.copy()
        np.fill_diagonal(colours, np.nan)
        low, high = data_range(colours)
        image = _heatmap(ax, matrix, seeds, seeds, colours, Normalize(low, high), title)
        ax.set_xlabel(f"seed ({diagonal})", fontsize=9)
        ax.set_ylabel("seed")
        bar = figure.colorbar(image, ax=ax, shrink=0.85)
        bar.set_label(f"colour scale: {low:.3f} to {high:.3f} (the pairs' range)", fontsize=9)
    return figure


def seed_metric_figure(report: dict) -> Figure:
    """Seeds x (zeta, CON and CCON with the other seeds), like the paper's Figure 3.

    Cells show the values. The columns have different units (an MAE, an MCC, shares), so each column is coloured
    on its own scale, from its lowest seed (dark) to its highest (bright); the figure says so in its colour bar.
    """
    seeds = [str(s) for s in report["seeds"]]
    columns, values = [], []
    if report.get("zeta") is not None:
        columns.append(f"ζ ({report['zeta_name']})")
        values.append(report["zeta"])
    for key, name in (("con_matrix", "CON"), ("ccon_matrix", "CCON")):
        if report.get(key) is not None:
            columns.append(f"{name} with others")
            values.append(mean_with_other_seeds(report[key]))
    matrix = np.asarray(values, dtype=float).T
    low, high = np.nanmin(matrix, axis=0), np.nanmax(matrix, axis=0)
    colours = np.where(high > low, (matrix - low) / np.where(high > low, high - low, 1.0), 0.5)
    height = min(1.6 + 0.45 * len(seeds), 2 * MAX_SIDE_INCHES)
    figure = Figure(figsize=(1.9 * len(columns) + 3.2, height), layout="constrained")
    ax = figure.subplots()
    image = _heatmap(ax, matrix, seeds, columns, colours, Normalize(0.0, 1.0), "Each seed: ζ and mean CON / CCON")
    ax.set_ylabel("seed")
    bar = figure.colorbar(image, ax=ax, shrink=0.85, ticks=[0, 1])
    bar.ax.set_yticklabels(["column's\nlowest", "column's\nhighest"], fontsize=8)
    bar.set_label("each column has its own colour scale", fontsize=9)
    return figure
