"""Scoring speed on the 2024 UN General Debate speeches.

    python benchmarks/bench_scoring.py [--data DIR] [--model-dir DIR] [--batch-size N]
                                       [--chunk-size N] [--device auto] [--repeats 3]

Reports sentences per second and the wall time of one full scoring pass (splitting,
model, summaries), and the share of that time spent splitting sentences (median of
``--repeats`` runs of the splitter alone) and inside the model (measured during the pass).
Exits 0 with a "skipped" line when the speeches or the model are absent.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from pathlib import Path

from stancewatch.articles import ArticleError, read_articles
from stancewatch.inference import DEFAULT_MODEL_DIR, META_FILE, StanceClassifier
from stancewatch.modeling import resolve_device
from stancewatch.segment import split_sentences

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "ungdc_2024"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--model-dir", type=Path, default=DEFAULT_MODEL_DIR)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--chunk-size", type=int, default=64)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    if not args.data.is_dir():
        print(f"skipped: folder absent ({args.data})")
        return
    if not (args.model_dir / META_FILE).is_file():
        print(f"skipped: no model at {args.model_dir} (train it with `make model`, "
              "or pass --model-dir)")
        return

    items = list(read_articles(args.data))
    articles = [a for a in items if not isinstance(a, ArticleError)]
    for error in items:
        if isinstance(error, ArticleError):
            print(f"not scored: {error}")
    split_seconds = []
    for _ in range(args.repeats):
        clock = time.perf_counter()
        for article in articles:
            split_sentences(article["text"])
        split_seconds.append(time.perf_counter() - clock)

    classifier = StanceClassifier.load(args.model_dir, device=args.device)
    classifier.predict_proba(["Warm-up."])  # lazy initialisation is not scoring time
    model_seconds = 0.0
    predict_proba = classifier.predict_proba

    def timed_predict_proba(*call_args, **call_kwargs):
        nonlocal model_seconds
        clock = time.perf_counter()
        probabilities = predict_proba(*call_args, **call_kwargs)
        model_seconds += time.perf_counter() - clock
        return probabilities

    classifier.predict_proba = timed_predict_proba
    clock = time.perf_counter()
    results = list(classifier.score_articles(articles, args.batch_size, args.chunk_size))
    wall = time.perf_counter() - clock
    sentences = sum(r["summary"]["n_sentences"] for r in results)
    split = statistics.median(split_seconds)

    device = resolve_device(args.device)
    if device.type == "cuda":
        import torch

        hardware = torch.cuda.get_device_name(device)
    else:
        hardware = f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs"
    print(f"model: {classifier.meta['kind']} from {args.model_dir}")
    print(f"device: {device} ({hardware}); batch {args.batch_size}, chunk {args.chunk_size}")
    print(f"speeches: {len(articles)}  sentences: {sentences}")
    print(f"wall time: {wall:.1f} s  ->  {sentences / wall:.0f} sentences/s")
    print(f"splitting: {split:.2f} s ({split / wall:.0%} of wall; median of {args.repeats})")
    print(f"model: {model_seconds:.1f} s ({model_seconds / wall:.0%} of wall)")


if __name__ == "__main__":
    main()
