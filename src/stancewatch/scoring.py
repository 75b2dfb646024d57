"""Scoring new articles end to end: read the input, label every sentence in batched
passes, write the outputs and the report."""

from __future__ import annotations

import sys
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from .articles import ArticleError, count_inputs, read_articles
from .inference import CHUNK_SIZE, StanceClassifier
from .records import now
from .report import by_threat, check_format, write_outputs


@dataclass
class ScoreRun:
    """What a scoring run produced: results in input order (each with its ``text``),
    the inputs that failed, and where the report is."""

    results: list[dict]
    errors: list[ArticleError]
    report: Path


def score_path(input_path: str | Path, output_dir: str | Path,
               model_dir: str | Path | None = None, fmt: str = "jsonl",
               batch_size: int = 64, device: str = "auto", chunk_size: int = CHUNK_SIZE,
               progress: bool = True) -> ScoreRun:
    """Score a ``.txt`` file, a folder of them or a ``.jsonl`` file into ``output_dir``.

    Inputs that cannot be read are reported on stderr and in ``errors.jsonl``; the rest
    are scored. Raises ``DataError``/``FileNotFoundError``/``ValueError`` when nothing
    can be scored at all (bad input path, missing model, unknown format).
    """
    check_format(fmt)  # before the model loads, not after scoring
    source = read_articles(input_path)
    # Resolved, so that load() recognises models/default however the path was spelled
    # and says how to train it when it is missing.
    model_dir = Path(model_dir).resolve() if model_dir is not None else None
    classifier = StanceClassifier.load(model_dir, device=device)
    errors: list[ArticleError] = []
    # score_articles returns results in input order, so texts queue up in step with them.
    texts: deque[str] = deque()
    bar = tqdm(total=count_inputs(input_path), desc="scoring", unit="article",
               disable=not progress, file=sys.stderr)

    def articles() -> Iterator[dict]:
        for item in source:
            if isinstance(item, ArticleError):
                errors.append(item)
                tqdm.write(f"error: {item}", file=sys.stderr)
                bar.update()
            else:
                texts.append(item["text"])
                yield item

    results = []
    for result in classifier.score_articles(articles(), batch_size, chunk_size):
        results.append({**result, "text": texts.popleft()})
        bar.update()
    bar.close()
    info = {"model": f"{classifier.meta.get('kind')} from {model_dir or 'models/default'}",
            "input": str(input_path), "scored": now()}
    report = write_outputs(Path(output_dir), results, errors, fmt, info)
    return ScoreRun(results, errors, report)


def threat_table(results: list[dict], top: int = 10) -> str:
    """A plain-text table of the ``top`` most threatening articles."""
    ranked = by_threat(results)[:top]
    if not ranked:
        return "no articles scored"
    lines = [f"{'threat':>6} {'hostile':>7} {'cond.':>5} {'sents':>5}  article"]
    for result in ranked:
        summary = result["summary"]
        name = result["article_id"] + (f"  {result['title']}" if result.get("title") else "")
        lines.append(f"{summary['threat_score']:6.2f} {summary['counts']['hostile']:7d} "
                     f"{summary['counts']['conditional']:5d} {summary['n_sentences']:5d}  "
                     f"{name[:70]}")
    return "\n".join(lines)
