"""Benchmark scoring: python scripts/bench.py [model_dir=PATH] [key=value ...]

The plain transformers pipeline and every backend on the same sentences, memory, macro-F1
per backend and the whole-document rate; writes benchmarks/results/<date>-<machine>.json
and the table in BENCHMARKS.md. Exits 0 with a "skipped" line when the speeches or the
model are absent."""

import os
from pathlib import Path

os.environ.setdefault("PROJECT_ROOT", str(Path(__file__).resolve().parents[1]))

import hydra  # noqa: E402
from hydra.utils import instantiate  # noqa: E402
from omegaconf import DictConfig  # noqa: E402

from stancewatch.benchmark import run_benchmark, write_results  # noqa: E402
from stancewatch.records import META_FILE  # noqa: E402


@hydra.main(version_base="1.3", config_path="../configs", config_name="bench")
def main(cfg: DictConfig) -> None:
    speeches, model_dir = Path(cfg.speeches), Path(cfg.model_dir)
    if not speeches.is_dir():
        print(f"skipped: no speeches at {speeches}")
        return
    if not (model_dir / META_FILE).is_file():
        print(f"skipped: no model at {model_dir} (train it with `make model`)")
        return
    data = instantiate(cfg.data)
    result = run_benchmark(
        model_dir, speeches, {name: data.splits[name] for name in data.eval_sets},
        sentences=cfg.sentences, seed=cfg.seed, repeats=cfg.repeats,
        backends=list(cfg.backends), batch_size=cfg.batch_size,
        pipeline_batch_size=cfg.pipeline_batch_size, threads=cfg.threads,
        memory_scale=cfg.memory_scale, work_dir=Path(cfg.work_dir))
    path = write_results(result, Path(cfg.results_dir), Path(cfg.markdown))
    print(f"{path}\n{Path(cfg.markdown)} updated")


if __name__ == "__main__":
    main()
