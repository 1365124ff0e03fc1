"""seed-consistency: CON, CCON and VAR of a model fine-tuned with several random seeds.

The math lives in the evaluate module `seed_consistency.py`, which imports `evaluate` (and through it
transformers): it is imported on first use of one of the names below, so that `predictions_io` and the CLI stay
light.

>>> from seed_consistency_metric import seed_consistency
>>> seed_consistency({42: [1, 1, 1, 0, 0], 52: [1, 0, 0, 1, 1]}, references=[1] * 5)["con"]
0.2
"""

import importlib
import sys
import types

__all__ = [
    "DEFAULT_ZETA",
    "PAPER_SEEDS",
    "TASKS",
    "ZETAS_BY_TASK",
    "SeedConsistency",
    "agreeing_pair_fraction",
    "both_correct_pair_fraction",
    "check_reported",
    "compare_seed_consistency",
    "seed_consistency",
    "seeds_needed",
]


_OUTSIDE_THE_SCRIPT = {"check_reported": ".reported_tables"}  # public names of modules the script does not import


def __getattr__(name: str):
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if name in _OUTSIDE_THE_SCRIPT:
        return getattr(importlib.import_module(_OUTSIDE_THE_SCRIPT[name], __name__), name)
    metric = importlib.import_module(".seed_consistency", __name__)
    globals().update({export: getattr(metric, export) for export in __all__ if export not in _OUTSIDE_THE_SCRIPT})
    return globals()[name]


class _MetricPackage(types.ModuleType):
    """Keeps `seed_consistency` bound to the function: importing the submodule of that name would bind it."""

    def __setattr__(self, name, value):
        if name == "seed_consistency" and isinstance(value, types.ModuleType):
            value = value.seed_consistency
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _MetricPackage
