"""Soft labels from a teacher on unlabelled real text: the pool of sentences it labels,
a resumable labelling pass, and reading the labels back for a student.

``teacher_labels.jsonl`` holds one line per sentence, ``{"id": ..., "p": [hostile,
conditional, neutral]}``: the id in the gold labels' scheme (``news:<article>:<start>-<end>``,
``ungdc:...``, ``unscon:...``) and the teacher's calibrated probabilities, and no text.
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from tqdm import tqdm

from .data import NEWS_SHARES, iter_jsonl, read_jsonl_labels, split_for_article
from .outputs import mend_jsonl
from .sources import news_sentences, ungdc_sentences, unscon_sentences

# Decimals kept per probability: enough for a soft target, small enough for git.
DECIMALS = 4
MIN_WORDS, MAX_WORDS = 4, 80


def held_out_articles(label_paths: Iterable[str | Path]) -> set[str]:
    """Articles with any held-out (non-``train``) gold label: the teacher never sees them."""
    held = set()
    for path in label_paths:
        for _, row in iter_jsonl(path):
            if row.get("split") != "train":
                held.add(row["id"].rsplit(":", 1)[0])
    return held


def unlabelled_pool(text: dict[str, str | Path | None], counts: dict[str, int],
                    skip_articles: set[str], skip_ids: set[str], seed: int) -> list[dict]:
    """Up to ``counts[source]`` sentences per real source (``news``, ``ungdc``,
    ``unscon``), drawn at random (``seed``) among sentences of 4-80 words that have no gold
    label (``skip_ids``) and lie outside held-out articles (``skip_articles``, and every
    news article that the hash split puts in dev or test). Sources whose text is absent
    are skipped."""
    readers: dict[str, Callable[[str | Path], Iterator[dict]]] = {
        "news": news_sentences, "ungdc": ungdc_sentences, "unscon": unscon_sentences}
    rng = random.Random(seed)
    pool = []
    for source, n in counts.items():
        where = text.get(source)
        if not n or where is None or not Path(where).exists():
            continue
        rows = [
            {"id": row["id"], "text": row["text"], "source": source}
            for row in readers[source](where)
            if row["id"] not in skip_ids and row["article_id"] not in skip_articles
            and (source != "news" or split_for_article(row["article_id"], NEWS_SHARES) == "train")
            and MIN_WORDS <= len(row["text"].split()) <= MAX_WORDS
        ]
        # UNSCon repeats a few sentences across excerpts: one soft label per id
        rows = list({row["id"]: row for row in rows}.values())
        pool.extend(rng.sample(rows, min(n, len(rows))))
    return pool


def label_pool(predict_proba: Callable[[list[str]], object], pool: list[dict], out: str | Path,
               batch_size: int = 256, progress: bool = True) -> int:
    """Write the teacher's probabilities for every sentence of ``pool`` to ``out``,
    appending one flushed and synced batch at a time and skipping ids already there, so
    that a killed run resumes where it stopped. Returns how many sentences it labelled."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    done = {row["id"] for row in mend_jsonl(out)}
    todo = [row for row in pool if row["id"] not in done]
    # similar lengths in a batch pad less
    todo.sort(key=lambda row: len(row["text"]))
    with out.open("a", encoding="utf-8") as handle, tqdm(
            total=len(pool), initial=len(pool) - len(todo), unit="sentence",
            disable=not progress) as bar:
        for start in range(0, len(todo), batch_size):
            batch = todo[start: start + batch_size]
            probabilities = predict_proba([row["text"] for row in batch])
            handle.writelines(
                json.dumps({"id": row["id"], "p": [round(float(x), DECIMALS) for x in p]}) + "\n"
                for row, p in zip(batch, probabilities, strict=True))
            handle.flush()
            os.fsync(handle.fileno())
            bar.update(len(batch))
    return len(todo)


def label_unlabelled(model_dirs: list[str | Path], output: str | Path, label_paths: list[str],
                     text: dict[str, str | Path | None], counts: dict[str, int], seed: int,
                     batch_size: int = 256, device: str = "auto", backend: str = "onnx",
                     progress: bool = True) -> tuple[int, int]:
    """Draw the unlabelled pool (see :func:`unlabelled_pool`: no gold-labelled sentence,
    nothing from a held-out article) and have the teacher label it into ``output``,
    resuming a killed run. The teacher is the model in ``model_dirs``, or the mean of
    their probabilities when there are several (an ensemble). ``backend`` defaults to
    float32 ONNX: as exact as PyTorch and faster, where int8 moves some probabilities too
    far for soft labels. Returns (pool size, newly labelled)."""
    # the classifier brings in torch and transformers: only when labelling
    import numpy as np

    from .inference import StanceClassifier

    if not model_dirs:
        raise ValueError("model_dirs is empty: give the teacher model's folder (or several)")
    gold = {i for path in label_paths for i in read_jsonl_labels(path)}
    pool = unlabelled_pool(text, counts, held_out_articles(label_paths), gold, seed)
    teachers = [StanceClassifier.load(path, device=device, backend=backend)
                for path in model_dirs]

    def predict_proba(texts: list[str]) -> np.ndarray:
        return np.mean([teacher.predict_proba(texts) for teacher in teachers], axis=0)

    return len(pool), label_pool(predict_proba, pool, output, batch_size, progress)
