"""Compare training runs, pooling seeds:
python scripts/compare_runs.py [runs_dir=DIR] [tag=T] [name=GLOB] [since=YYYY-MM-DD]
    [sort_by=test.macro_f1] [metrics=[...]] [output_dir=DIR]
Two runs in detail (deltas, paired bootstrap interval, disagreements):
python scripts/compare_runs.py a=RUN_DIR b=RUN_DIR"""

import os
from pathlib import Path

os.environ.setdefault("PROJECT_ROOT", str(Path(__file__).resolve().parents[1]))

import hydra  # noqa: E402
from omegaconf import DictConfig  # noqa: E402

from stancewatch.commands import compare  # noqa: E402


@hydra.main(version_base="1.3", config_path="../configs", config_name="compare")
def main(cfg: DictConfig) -> None:
    compare(cfg)


if __name__ == "__main__":
    main()
