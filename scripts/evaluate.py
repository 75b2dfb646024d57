"""Evaluate a saved model on a labelled JSON Lines file:
python scripts/evaluate.py model_dir=PATH data.path=FILE.jsonl output_dir=DIR"""

import os
from pathlib import Path

os.environ.setdefault("PROJECT_ROOT", str(Path(__file__).resolve().parents[1]))

import hydra  # noqa: E402
from omegaconf import DictConfig  # noqa: E402

from stancewatch.commands import evaluate  # noqa: E402


@hydra.main(version_base="1.3", config_path="../configs", config_name="evaluate")
def main(cfg: DictConfig) -> None:
    evaluate(cfg)


if __name__ == "__main__":
    main()
