"""Scoring on Ray Data: files are read where they are scored, sentences are labelled by
a pool of actors (one model each), and the results stream back to this process in input
order, where the same writer as the single-process engine writes them.

Ray is an optional extra (``pip install 'stancewatch[ray]'``). On a cluster, every node
needs stancewatch installed and the input files at the same path (a shared filesystem).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from ..articles import ArticleError, Reading, input_files
from ..scoring import ModelSettings


def _encode(item: dict | ArticleError) -> dict:
    if isinstance(item, ArticleError):
        return {"item": json.dumps({"error": item.to_dict()})}
    return {"item": json.dumps({"article": item})}


def _read(row: dict, reading: Reading) -> list[dict]:
    """One input file's articles and errors (less those a resumed run has written)."""
    return [_encode(item) for item in reading.path(Path(row["path"]))]


class _Scorer:
    """A Ray Data actor: one model, loaded once, scores batches of articles."""

    def __init__(self, settings: ModelSettings) -> None:
        self.settings = settings
        self.classifier = settings.load()

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, list[str]]:
        items = [json.loads(item) for item in batch["item"]]
        articles = [item["article"] for item in items if "article" in item]
        results = iter(self.classifier.score_articles(articles, self.settings.batch_size,
                                                      self.settings.chunk_size))
        return {"item": [json.dumps({"result": next(results)} if "article" in item else item)
                         for item in items]}


class RayEngine:
    """Ray Data over an actor pool: ``actors`` actors with ``cpus_per_actor`` CPUs (the
    model's threads) and ``gpus_per_actor`` GPUs each, handed ``articles_per_batch``
    articles at a time. ``address`` is an existing cluster (``auto``, ``ray://host:10001``);
    without it a local Ray starts and stops with the run."""

    def __init__(self, address: str | None = None, actors: int = 2, cpus_per_actor: int = 1,
                 gpus_per_actor: float = 0, articles_per_batch: int = 64) -> None:
        self.address = address
        self.actors = actors
        self.cpus_per_actor = cpus_per_actor
        self.gpus_per_actor = gpus_per_actor
        self.articles_per_batch = articles_per_batch

    def describe(self) -> str:
        gpus = f", {self.gpus_per_actor} GPU" if self.gpus_per_actor else ""
        return (f"ray ({self.actors} actors x {self.cpus_per_actor} CPU{gpus}; "
                f"{self.address or 'local'})")

    def results(self, input_path: Path, settings: ModelSettings, reading: Reading
                ) -> Iterator[dict | ArticleError]:
        try:
            import ray
        except ImportError:
            raise ImportError("engine=ray needs Ray: pip install 'stancewatch[ray]'") from None
        files = input_files(input_path)
        started = not ray.is_initialized()
        if started:
            # Locally, a CPU beyond the actors' keeps file reading from waiting on them.
            cpus = None if self.address else max(os.cpu_count() or 1,
                                                 self.actors * self.cpus_per_actor + 1)
            ray.init(address=self.address, num_cpus=cpus, include_dashboard=False,
                     logging_level="ERROR", log_to_driver=False)
        try:
            # This process shows its own progress bar; Ray Data's would interleave with it.
            logging.getLogger("ray.data").setLevel(logging.ERROR)
            context = ray.data.DataContext.get_current()
            context.execution_options.preserve_order = True  # rows come back in input order
            context.enable_progress_bars = False
            settings = dataclasses.replace(settings, threads=self.cpus_per_actor)
            dataset = (ray.data.from_items([{"path": str(f)} for f in files],
                                           override_num_blocks=len(files))
                       .flat_map(_read, fn_kwargs={"reading": reading})
                       .map_batches(_Scorer, fn_constructor_kwargs={"settings": settings},
                                    batch_size=self.articles_per_batch,
                                    compute=ray.data.ActorPoolStrategy(size=self.actors),
                                    num_cpus=self.cpus_per_actor, num_gpus=self.gpus_per_actor))
            for row in dataset.iter_rows():
                item = json.loads(row["item"])
                yield item["result"] if "result" in item else ArticleError(**item["error"])
        finally:
            if started:
                ray.shutdown()
