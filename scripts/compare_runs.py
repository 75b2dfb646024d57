"""Compare training runs, pooling seeds:
python scripts/compare_runs.py [runs_dir=DIR] [tag=T] [name=GLOB] [since=YYYY-MM-DD]
    [sort_by=test.macro_f1] [metrics=[...]] [output_dir=DIR]
Two runs in detail (deltas, paired bootstrap interval, disagreements):
python scripts/compare_runs.py a=RUN_DIR b=RUN_DIR"""

import os
import sys
from pathlib import Path

os.environ.setdefault("PROJECT_ROOT", str(Path(__file__).resolve().parents[1]))

import hydra  # noqa: E402
from omegaconf import DictConfig  # noqa: E402

from stancewatch.compare import (  # noqa: E402
    build_table,
    compare_pair,
    discover_runs,
    load_run,
    render_pair,
    to_markdown,
    write_comparison,
    write_pair,
)


def _report(cfg: DictConfig) -> str:
    metrics = list(cfg.metrics) if cfg.metrics else None
    if cfg.a or cfg.b:
        if not (cfg.a and cfg.b):
            raise ValueError("give both a=RUN_DIR and b=RUN_DIR")
        pair = compare_pair(load_run(cfg.a), load_run(cfg.b), cfg.dataset, metrics,
                            cfg.resamples, cfg.bootstrap_seed, cfg.confidence)
        write_pair(pair, cfg.output_dir)
        return render_pair(pair)
    runs = discover_runs(cfg.runs_dir, tag=cfg.tag, name=cfg.name,
                         since=cfg.since, until=cfg.until)
    if not runs:
        raise ValueError(f"no training runs under {cfg.runs_dir} match")
    table = build_table(runs, metrics, cfg.sort_by, cfg.descending, cfg.group_seeds)
    write_comparison(table, cfg.output_dir, cfg.dataset)
    return to_markdown(table)


@hydra.main(version_base="1.3", config_path="../configs", config_name="compare")
def main(cfg: DictConfig) -> None:
    try:
        text = _report(cfg)
    except (OSError, ValueError) as err:
        sys.exit(f"error: {err}")
    print(text)
    print(f"-> {cfg.output_dir}")


if __name__ == "__main__":
    main()
