"""Paper report from finished run directories: Table 1 (markdown + CSV), Figure 3 and Figure 2 (PNG).

Example:
    >>> import tempfile
    >>> from pathlib import Path
    >>> from seed_consistency_metric.predictions_io import write_seed_predictions
    >>> run = Path(tempfile.mkdtemp())
    >>> for seed, row in {42: [1, 1, 1, 0, 0], 52: [1, 0, 0, 1, 1]}.items():
    ...     _ = write_seed_predictions(run / f"seed-{seed}" / "predictions.jsonl", row, references=[1] * 5)
    >>> rendered = render_report([run], run / "report", plots=False)
    >>> rendered.rows[0]["zeta (%)"], rendered.rows[0]["CON (%)"], [path.name for path in rendered.files]
    (60.0, 20.0, ['table1.md', 'table1.csv'])
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from .differences import model_differences
from .differences import to_csv as differences_csv
from .differences import to_markdown as differences_markdown
from .runs import RunResult, find_run_dirs, load_run, load_runs
from .tables import size_correlations, table_rows, to_csv, to_markdown, zeta_heatmap_data

TABLE_MD = "table1.md"
TABLE_CSV = "table1.csv"
FIGURE3 = "figure3_zeta_heatmap.png"
FIGURE2 = "figure2_size_correlation.png"
PAIRWISE = "pairwise_con.png"
DIFFERENCES_MD = "differences.md"
DIFFERENCES_CSV = "differences.csv"

__all__ = ["RenderedReport", "RunResult", "find_run_dirs", "load_run", "load_runs", "render_report"]


@dataclass
class RenderedReport:
    """What :func:`render_report` made: the markdown table, its rows, the files written, and notes (every run's
    ``report["warnings"]``; for a single run also what its CON adds beyond accuracy)."""

    markdown: str
    rows: list[dict]
    correlations: dict[str, dict]
    files: list[Path] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    differences: list[dict] = field(default_factory=list)  # per task and pair of models, see .differences
    differences_markdown: str = ""


def render_report(
    run_dirs: Iterable[str | Path],
    output_dir: str | Path,
    plots: bool = True,
    digits: int = 2,
    compare_bootstrap: int = 1000,
) -> RenderedReport:
    """Write table1.md / table1.csv (and the PNG figures) for the runs in or below ``run_dirs``; where two models
    ran the same task, also differences.md / differences.csv (B - A with intervals and p-values from
    ``compare_bootstrap`` resamples; 0: skip)."""
    runs = load_runs(run_dirs)
    output_dir = Path(output_dir)
    rows = table_rows(runs)
    markdown = to_markdown(rows, digits)
    correlations = size_correlations(runs)
    rendered = RenderedReport(markdown=markdown, rows=rows, correlations=correlations)
    output_dir.mkdir(parents=True, exist_ok=True)
    tables, difference_notes = [(TABLE_MD, markdown + "\n"), (TABLE_CSV, to_csv(rows))], []
    if compare_bootstrap and len({run.model for run in runs}) > 1:
        rendered.differences = model_differences(runs, n_bootstrap=compare_bootstrap, notes=difference_notes)
        if rendered.differences:
            rendered.differences_markdown = differences_markdown(rendered.differences, digits)
            tables += [(DIFFERENCES_MD, rendered.differences_markdown + "\n"),
                       (DIFFERENCES_CSV, differences_csv(rendered.differences))]  # fmt: skip
    for name, text in tables:
        (output_dir / name).write_text(text, encoding="utf-8")
        rendered.files.append(output_dir / name)
    for run in runs:
        rendered.notes += [f"{run.model} on {run.label}: {warning}" for warning in run.report.get("warnings", [])]
    if len(runs) == 1 and runs[0].report.get("con_decomposition"):
        rendered.notes.append(runs[0].report["con_decomposition"]["summary"])
    if not correlations:
        rendered.notes.append("Figure 2 needs at least 3 tasks of different training sizes for one model; skipped")
    rendered.notes += difference_notes
    if not plots:
        return rendered
    from .figures import plot_pairwise_consistency, plot_size_correlations, plot_zeta_heatmap

    rendered.files.append(plot_zeta_heatmap(*zeta_heatmap_data(runs), output_dir / FIGURE3))
    if correlations:
        rendered.files.append(plot_size_correlations(correlations, output_dir / FIGURE2))
    if len(runs) == 1:
        report = runs[0].report
        title = f"Pairwise CON between seeds ({runs[0].label})"
        rendered.files.append(plot_pairwise_consistency(report["seeds"], report["con_matrix"], title,
                                                        output_dir / PAIRWISE))  # fmt: skip
    return rendered
