"""Worker process of ``backend="parallel"``: ``python -m trainer_ext.worker <seed_run.pkl> <resume> <seed>...``.

Loads the pickled ``SeedRun`` and trains the given seeds one after another on the devices that
``CUDA_VISIBLE_DEVICES`` leaves visible (with ``seeds_per_gpu=k``, k workers see the same GPU). It exits when
its parent dies (a killed run leaves no orphan training on), so the rerun that resumes the run is the only
writer of the seed directories.
"""

from __future__ import annotations

import os
import pickle
import sys
import threading
import time
from pathlib import Path


def _exit_with_parent(parent_pid: int, interval: float = 1.0) -> None:
    while os.getppid() == parent_pid:
        time.sleep(interval)
    os._exit(1)


def main(argv: list[str]) -> int:
    payload, resume, *seeds = argv
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()
    run = pickle.loads(Path(payload).read_bytes())
    for seed in seeds:
        run.train_seed(int(seed), resume=bool(int(resume)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
