"""trainer_ext: ``MultiSeedTrainer``, a drop-in for ``transformers.Trainer`` that trains every seed.

>>> from trainer_ext import MultiSeedTrainer, PAPER_SEEDS
>>> list(PAPER_SEEDS)[:3]
[42, 52, 62]
"""

from seed_consistency_metric import PAPER_SEEDS

from .multi_seed_trainer import MultiSeedTrainer, mean_std_over_seeds
from .results import MultiSeedPredictionOutput, MultiSeedTrainOutput, ReproducibilityReport

__all__ = [
    "PAPER_SEEDS",
    "MultiSeedPredictionOutput",
    "MultiSeedTrainOutput",
    "MultiSeedTrainer",
    "ReproducibilityReport",
    "mean_std_over_seeds",
]
