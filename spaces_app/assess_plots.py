"""Matplotlib figures of the assessment views: a comparison's differences B - A, and interval half-width vs seeds.

Same conventions as `plots`: off-screen Agg figures, every axis says its unit, nothing is recomputed here.

>>> result = {"difference": {"con": -0.02, "var": None}, "ci": {"con": [-0.05, 0.01]}, "p_value": {"con": 0.2},
...           "confidence_level": 0.95}
>>> difference_figure(result).axes[0].get_title(loc="left")
'CON: B − A = -0.0200, p = 0.200'
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # the Space renders off-screen

from matplotlib.figure import Figure  # noqa: E402

NAMES = {"con": "CON", "ccon": "CCON", "var": "VAR", "zeta_mean": "mean ζ"}
POINT, LINE, TARGET = "#1f4e79", "#7f7f7f", "#c0392b"


def difference_figure(result: dict) -> Figure:
    """One strip per metric: the difference B - A (dot), its interval (bar) and 0 (no difference, grey line)."""
    keys = [key for key in NAMES if result["difference"].get(key) is not None]
    figure = Figure(figsize=(7.0, 0.45 + 1.05 * len(keys)), layout="constrained")
    axes = figure.subplots(len(keys), 1, squeeze=False)[:, 0]
    for ax, key in zip(axes, keys, strict=True):
        value, (low, high) = result["difference"][key], result["ci"][key]
        ax.axvline(0.0, color=LINE, linewidth=1, linestyle="--")
        ax.errorbar([value], [0], xerr=[[value - low], [high - value]], fmt="o", color=POINT, capsize=5)
        span = max(abs(low), abs(high), abs(value), 1e-6) * 1.25
        ax.set_xlim(-span, span)
        ax.set_yticks([])
        ax.set_title(f"{NAMES[key]}: B − A = {value:.4f}, p = {result['p_value'][key]:.3f}", fontsize=10, loc="left")
        ax.tick_params(axis="x", labelsize=9)
    axes[-1].set_xlabel(f"B − A with its {result['confidence_level']:.0%} interval (dashed: no difference)")
    return figure


def seeds_figure(result: dict, target_metric: str | None = None) -> Figure:
    """Interval half-width against the number of seeds k, per metric: measured (dots, k = 3..S) and the fitted
    curve (`seeds_needed`'s extrapolated rows, dashed); the target of `target_metric` and the k that reaches it
    in red."""
    keys = [key for key in NAMES if key in result["fit"]]
    columns = 2 if len(keys) > 1 else 1
    rows = -(-len(keys) // columns)
    figure = Figure(figsize=(4.2 * columns, 3.0 * rows), layout="constrained")
    axes = figure.subplots(rows, columns, squeeze=False).ravel()
    for ax in axes[len(keys) :]:
        ax.set_visible(False)
    measured = [row for row in result["rows"] if row.get(f"{keys[0]}_half_width") is not None]
    for ax, key in zip(axes, keys):
        ks = [row["k"] for row in measured]
        ax.plot(ks, [row[f"{key}_half_width"] for row in measured], "o", color=POINT, label="measured")
        fitted = result["extrapolated"]
        ax.plot([r["k"] for r in fitted], [r[f"{key}_half_width"] for r in fitted], "--", color=LINE, label="fit")
        needed = result["seeds_needed"].get(key) if key == target_metric else None
        if needed:
            ax.axhline(needed["target"], color=TARGET, linewidth=1, label=f"target {needed['target']:g}")
            if needed["k"] is not None and needed["k"] <= fitted[-1]["k"]:
                ax.axvline(needed["k"], color=TARGET, linewidth=1, linestyle=":", label=f"reached at k = {needed['k']}")
            elif needed["k"] is not None:
                ax.plot([], [], " ", label=f"reached at k = {needed['k']} (off the chart)")
        ax.set_title(f"{NAMES[key]}", fontsize=10)
        ax.set_xlabel("seeds k")
        ax.set_ylabel("interval half-width")
        ax.set_ylim(bottom=0)
        ax.legend(fontsize=8)
    return figure
