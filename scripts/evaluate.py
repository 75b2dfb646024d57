"""Evaluate a saved model on a labelled JSON Lines file:
python scripts/evaluate.py model_dir=PATH data.path=FILE.jsonl output_dir=DIR"""

import os
import sys
from pathlib import Path

os.environ.setdefault("PROJECT_ROOT", str(Path(__file__).resolve().parents[1]))

import hydra  # noqa: E402
from omegaconf import DictConfig  # noqa: E402

from stancewatch.evaluation import evaluate_file  # noqa: E402


@hydra.main(version_base="1.3", config_path="../configs", config_name="evaluate")
def main(cfg: DictConfig) -> None:
    try:
        metrics = evaluate_file(cfg.model_dir, cfg.data.path, cfg.output_dir,
                                batch_size=cfg.batch_size, device=cfg.device, name=cfg.data.name,
                                split=cfg.data.split)
    except (ValueError, FileNotFoundError) as err:
        sys.exit(f"error: {err}")
    print(f"n={metrics['n']} accuracy={metrics['accuracy']:.3f} macro_f1={metrics['macro_f1']:.3f}"
          f" -> {cfg.output_dir}")


if __name__ == "__main__":
    main()
