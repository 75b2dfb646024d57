"""Score new articles: python scripts/score.py input=PATH output_dir=DIR
[model_dir=PATH] [format=jsonl|csv|parquet] [backend=auto] [engine=local|ray]
[ray.address=...] [verbose=true]

Exits 1 when any input failed (the others are still scored and written)."""

import os
from pathlib import Path

os.environ.setdefault("PROJECT_ROOT", str(Path(__file__).resolve().parents[1]))

import hydra  # noqa: E402
from omegaconf import DictConfig  # noqa: E402

from stancewatch.commands import score  # noqa: E402


@hydra.main(version_base="1.3", config_path="../configs", config_name="score")
def main(cfg: DictConfig) -> None:
    score(cfg)


if __name__ == "__main__":
    main()
