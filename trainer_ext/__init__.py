"""trainer_ext: ``MultiSeedTrainer``, a drop-in for ``transformers.Trainer`` that trains every seed.

>>> from trainer_ext import MultiSeedTrainer, PAPER_SEEDS
>>> list(PAPER_SEEDS)[:3]
[42, 52, 62]
"""

from seed_consistency_metric import PAPER_SEEDS

from .generation import CausalLMGenerationTrainer, decode_generations
from .multi_seed_trainer import MultiSeedTrainer, mean_std_over_seeds
from .results import MultiSeedPredictionOutput, MultiSeedTrainOutput, ReproducibilityReport

__all__ = [
    "PAPER_SEEDS",
    "CausalLMGenerationTrainer",
    "MultiSeedPredictionOutput",
    "MultiSeedTrainOutput",
    "MultiSeedTrainer",
    "ReproducibilityReport",
    "decode_generations",
    "mean_std_over_seeds",
]
