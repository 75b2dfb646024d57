"""Label unlabelled real text with a teacher model's probabilities (for distillation):
python scripts/teacher_label.py model_dirs=[TEACHER_MODEL,...] [output=data/teacher_labels.jsonl]
Resumable: run it again after a kill and it labels only what is missing."""

import os
import sys
from pathlib import Path

os.environ.setdefault("PROJECT_ROOT", str(Path(__file__).resolve().parents[1]))

import hydra  # noqa: E402
from omegaconf import DictConfig  # noqa: E402

from stancewatch.data import DataError  # noqa: E402
from stancewatch.distill import label_unlabelled  # noqa: E402


@hydra.main(version_base="1.3", config_path="../configs", config_name="teacher_label")
def main(cfg: DictConfig) -> None:
    text = {"news": cfg.data.news_path, "ungdc": cfg.data.ungdc_dir,
            "unscon": cfg.data.unscon_path}
    try:
        pool, labelled = label_unlabelled(list(cfg.model_dirs), cfg.output,
                                          list(cfg.data.real_labels), text, dict(cfg.pool),
                                          cfg.seed, cfg.batch_size, cfg.device, cfg.backend)
    except (DataError, FileNotFoundError, ValueError) as err:
        sys.exit(f"error: {err}")
    print(f"{pool} sentences in the pool, {labelled} labelled now -> {cfg.output}")


if __name__ == "__main__":
    main()
