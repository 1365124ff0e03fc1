"""seed-consistency: CON, CCON and VAR of a model fine-tuned with several random seeds.

The math lives in the evaluate module `seed_consistency.py`, which imports `evaluate` (and through it
transformers): it is imported on first use of one of the names below, so that `predictions_io` and the CLI stay
light.

>>> from seed_consistency_metric import seed_consistency
>>> seed_consistency({42: [1, 1, 1, 0, 0], 52: [1, 0, 0, 1, 1]}, references=[1] * 5)["con"]
0.2
"""

import importlib

__all__ = [
    "DEFAULT_ZETA",
    "PAPER_SEEDS",
    "TASKS",
    "SeedConsistency",
    "agreeing_pair_fraction",
    "both_correct_pair_fraction",
    "seed_consistency",
]


def __getattr__(name: str):
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    metric = importlib.import_module(".seed_consistency", __name__)
    # Importing the submodule bound its name on this package; bind the exported function over it.
    globals().update({export: getattr(metric, export) for export in __all__})
    return globals()[name]
