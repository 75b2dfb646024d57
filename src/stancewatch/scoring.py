"""Scoring new articles end to end: read the input, label every sentence in batched
passes, write each article's rows as soon as it is scored, then the report."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from tqdm import tqdm

from .articles import MAX_ARTICLE_BYTES, ArticleError, Reading, count_inputs, input_files
from .inference import CHUNK_SIZE, StanceClassifier, load_meta
from .outputs import (
    REPORT_ARTICLES,
    ScoreWriter,
    finish,
    finish_run,
    most_threatening,
    start_run,
)
from .records import now
from .report import check_format
from .runtime import ONNX_BACKENDS, resolve_backend


@dataclass
class ScoreRun:
    """What a scoring run produced: counts, the inputs that failed, the ``top`` most
    threatening articles (their ``articles.jsonl`` rows, highest first) and where the
    outputs are."""

    output_dir: Path
    n_articles: int
    n_sentences: int
    errors: list[ArticleError]
    top: list[dict]
    report: Path


@dataclass(frozen=True)
class ModelSettings:
    """How to load and run the model, wherever it runs."""

    model_dir: Path
    device: str = "auto"
    backend: str = "auto"
    threads: int | None = None
    batch_size: int = 64
    chunk_size: int = CHUNK_SIZE

    def load(self) -> StanceClassifier:
        return StanceClassifier.load(self.model_dir, device=self.device, backend=self.backend,
                                     threads=self.threads)


class Engine(Protocol):
    """Where articles are scored: results (``score_articles`` dicts) and input errors,
    in input order."""

    def results(self, input_path: Path, settings: ModelSettings, reading: Reading
                ) -> Iterator[dict | ArticleError]: ...

    def describe(self) -> str: ...


class LocalEngine:
    """This process: articles stream from the input through the model in chunks. A
    ``classifier`` already loaded is used as it is (the settings' model is not loaded)."""

    def __init__(self, classifier: StanceClassifier | None = None) -> None:
        self.classifier = classifier

    def results(self, input_path: Path, settings: ModelSettings, reading: Reading
                ) -> Iterator[dict | ArticleError]:
        classifier = self.classifier or settings.load()
        # Inputs that fail are passed on with the next result, so errors.jsonl grows as
        # the run goes; their order is input order only roughly (the splitter reads a
        # chunk ahead of the one being scored).
        errors: list[ArticleError] = []

        def articles() -> Iterator[dict]:
            for item in reading.articles(input_path):
                if isinstance(item, ArticleError):
                    errors.append(item)
                else:
                    yield item

        for result in classifier.score_articles(articles(), settings.batch_size,
                                                settings.chunk_size):
            yield from errors
            errors.clear()
            yield result
        yield from errors

    def describe(self) -> str:
        return "local (one process)"


def score_path(input_path: str | Path, output_dir: str | Path,
               model_dir: str | Path | None = None, fmt: str = "jsonl",
               batch_size: int = 64, device: str = "auto", chunk_size: int = CHUNK_SIZE,
               progress: bool = True, backend: str = "auto", threads: int | None = None,
               engine: Engine | None = None, report_articles: int | None = REPORT_ARTICLES,
               top: int = 10, resume: bool = False,
               max_article_bytes: int | None = MAX_ARTICLE_BYTES, sync: bool = True) -> ScoreRun:
    """Score an input (see :func:`~stancewatch.articles.input_files`) into ``output_dir``,
    on ``engine`` (default: this process).

    Inputs that cannot be read are reported on stderr and in ``errors.jsonl``; the rest
    are scored. ``resume`` continues an interrupted run in ``output_dir`` without scoring
    again what it wrote (see :mod:`stancewatch.outputs`). Raises ``DataError``,
    ``OSError`` or ``ValueError`` before any model work when nothing can be scored at all
    (bad input path, unusable model, output folder not writable, unknown format).
    """
    check_format(fmt)  # before the model loads, not after scoring
    input_files(input_path)  # a bad input path fails here, before anything is written
    # Resolved, so that models/default is recognised however the path was spelled
    # (and a missing one says how to train it).
    model_path, meta = load_meta(Path(model_dir).resolve() if model_dir is not None else None)
    backend = resolve_backend(backend, meta["kind"], device)
    output_dir = Path(output_dir)
    start_run(output_dir, {"input": str(Path(input_path).resolve()), "model_dir": str(model_path),
                           "model_created": meta.get("created"), "backend": backend,
                           "max_article_bytes": max_article_bytes}, resume)
    if backend in ONNX_BACKENDS:
        from .runtime.onnx import export_onnx

        export_onnx(model_path)  # once, here, rather than in every worker at the same time
    settings = ModelSettings(model_path, device, backend, threads, batch_size, chunk_size)
    engine = engine or LocalEngine()
    info = {"model": f"{meta['kind']} from {model_dir or 'models/default'} ({backend})",
            "engine": engine.describe(), "input": str(input_path)}
    with ScoreWriter(output_dir, resume, sync) as writer:
        reading = Reading(max_article_bytes, frozenset(writer.previous.done))
        total = count_inputs(input_path)
        bar = tqdm(total=None if total is None else max(0, total - len(reading.done)),
                   desc="scoring", unit="article", disable=not progress, file=sys.stderr)
        if reading.done:
            tqdm.write(f"resuming: {writer.n_articles} articles and {len(writer.errors)} "
                       "errors already written", file=sys.stderr)
        for item in engine.results(Path(input_path), settings, reading):
            error = writer.error(item) if isinstance(item, ArticleError) else writer.write(item)
            if error is not None:
                tqdm.write(f"error: {error}", file=sys.stderr)
            bar.update()
        bar.close()
        report = finish(writer, fmt, input_path, {**info, "scored": now()}, report_articles,
                        max_article_bytes)
    finish_run(output_dir)
    return ScoreRun(output_dir, writer.n_articles, writer.n_sentences, writer.errors,
                    most_threatening(output_dir, top), report)


def threat_table(articles: list[dict]) -> str:
    """A plain-text table of ``articles`` (``articles.jsonl`` rows, e.g. ``ScoreRun.top``)."""
    if not articles:
        return "no articles scored"
    lines = [f"{'threat':>6} {'hostile':>7} {'cond.':>5} {'sents':>5}  article"]
    for row in articles:
        name = row["article_id"] + (f"  {row['title']}" if row.get("title") else "")
        lines.append(f"{row['threat_score']:6.2f} {row['counts']['hostile']:7d} "
                     f"{row['counts']['conditional']:5d} {row['n_sentences']:5d}  "
                     f"{name[:70]}")
    return "\n".join(lines)
