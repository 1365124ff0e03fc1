"""Train S seeds and report seed consistency: the same as ``seed-consistency run`` (see ``--help``).

Example::

    python scripts/run_experiment.py                      # the embedded CPU demo
    python scripts/run_experiment.py --model_name_or_path bert-base-uncased --task_name rte \\
        --data_dir glue/RTE --output_dir runs/rte --seeds 42 52 62
"""

import sys

from seed_consistency_metric.cli import main

if __name__ == "__main__":
    sys.exit(main(["run", *sys.argv[1:]]))
