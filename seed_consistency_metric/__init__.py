"""seed-consistency: CON, CCON and VAR of a model fine-tuned with several random seeds.

>>> from seed_consistency_metric import seed_consistency
>>> seed_consistency({42: [1, 1, 1, 0, 0], 52: [1, 0, 0, 1, 1]}, references=[1] * 5)["con"]
0.2
"""

from .seed_consistency import (
    DEFAULT_ZETA,
    PAPER_SEEDS,
    TASKS,
    SeedConsistency,
    agreeing_pair_fraction,
    both_correct_pair_fraction,
    seed_consistency,
)

__all__ = [
    "DEFAULT_ZETA",
    "PAPER_SEEDS",
    "TASKS",
    "SeedConsistency",
    "agreeing_pair_fraction",
    "both_correct_pair_fraction",
    "seed_consistency",
]
