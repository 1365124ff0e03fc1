"""Worker process of ``backend="parallel"``: ``python -m trainer_ext.worker <seed_run.pkl> <resume> <seed>...``.

Loads the pickled ``SeedRun`` and trains the given seeds one after another on the devices that
``CUDA_VISIBLE_DEVICES`` leaves visible.
"""

from __future__ import annotations

import pickle
import sys
from pathlib import Path


def main(argv: list[str]) -> int:
    payload, resume, *seeds = argv
    run = pickle.loads(Path(payload).read_bytes())
    for seed in seeds:
        run.train_seed(int(seed), resume=bool(int(resume)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
