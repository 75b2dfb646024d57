"""Train a stance model: python scripts/train.py [experiment=NAME] [key=value ...]"""

import os
import sys
from pathlib import Path

os.environ.setdefault("PROJECT_ROOT", str(Path(__file__).resolve().parents[1]))

import hydra  # noqa: E402
from hydra.core.hydra_config import HydraConfig  # noqa: E402
from omegaconf import DictConfig  # noqa: E402

from stancewatch.data import DataError  # noqa: E402
from stancewatch.training import run_training  # noqa: E402


@hydra.main(version_base="1.3", config_path="../configs", config_name="train")
def main(cfg: DictConfig) -> float:
    try:
        return run_training(cfg, Path(HydraConfig.get().runtime.output_dir))
    except (DataError, FileExistsError, FileNotFoundError) as err:
        sys.exit(f"error: {err}")


if __name__ == "__main__":
    main()
