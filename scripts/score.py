"""Score new articles: python scripts/score.py input=PATH output_dir=DIR
[model_dir=PATH] [format=jsonl|csv] [batch_size=N] [device=auto]

Exits 1 when any input failed (the others are still scored and written)."""

import os
import sys
from pathlib import Path

os.environ.setdefault("PROJECT_ROOT", str(Path(__file__).resolve().parents[1]))

import hydra  # noqa: E402
from omegaconf import DictConfig  # noqa: E402

from stancewatch.scoring import score_path, threat_table  # noqa: E402


@hydra.main(version_base="1.3", config_path="../configs", config_name="score")
def main(cfg: DictConfig) -> None:
    try:
        run = score_path(cfg.input, cfg.output_dir, cfg.model_dir, fmt=cfg.format,
                         batch_size=cfg.batch_size, device=cfg.device,
                         chunk_size=cfg.chunk_size)
    except (FileNotFoundError, ValueError) as err:
        sys.exit(f"error: {err}")
    print(threat_table(run.results, cfg.top))
    print(f"{len(run.results)} articles scored -> {run.report}")
    if run.errors:
        sys.exit(f"{len(run.errors)} inputs failed: see {Path(cfg.output_dir) / 'errors.jsonl'}")


if __name__ == "__main__":
    main()
