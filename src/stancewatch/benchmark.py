"""Scoring speed, memory and quality, measured in one run (``scripts/bench.py``).

- Speed: the plain transformers ``pipeline("text-classification")`` and every backend on
  the same sentences drawn from real speeches, in one process, interleaved (the order
  rotates each repeat); medians and ratios to the pipeline.
- Quality: macro-F1 per backend on every evaluation set of the data config, and label
  agreement and the largest probability difference with float32 PyTorch.
- Memory: peak RSS of each backend scoring the sentences in a process of its own, and of
  ``score.py`` on all the speeches and on ten times that input.
- The whole-document rate: all the speeches through the scoring path (split, score,
  write, report) against the model alone on the same sentences.
"""

from __future__ import annotations

import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .articles import ArticleError, read_articles
from .inference import StanceClassifier, load_meta
from .labels import LABEL2ID
from .metrics import macro_f1
from .records import git_commit, now, write_json
from .runtime import BACKENDS
from .runtime.onnx import RESCORE_MARGIN, available_cpus
from .scoring import LocalEngine, score_path
from .segment import split_sentences

PIPELINE = "pipeline"
# onnx_int8 with every sentence left to int8: what the rescoring buys.
INT8_ONLY = "onnx_int8 (no rescoring)"
ROOT = Path(__file__).resolve().parents[2]


def speech_sentences(folder: Path) -> list[str]:
    return [s.text for item in read_articles(folder) if not isinstance(item, ArticleError)
            for s in split_sentences(item["text"])]


def _load(model_dir: Path, name: str, threads: int | None) -> StanceClassifier:
    classifier = StanceClassifier.load(model_dir, device="cpu",
                                       backend="onnx_int8" if name == INT8_ONLY else name,
                                       threads=threads)
    if name == INT8_ONLY:
        classifier.model.rescore_margin = 0
    return classifier


def _pipeline(model_dir: Path, batch_size: int) -> Callable[[list[str]], list]:
    """What a user would otherwise write: the model folder straight into a pipeline."""
    from transformers import pipeline

    pipe = pipeline("text-classification", model=str(model_dir), device="cpu",
                    batch_size=batch_size)
    return lambda texts: pipe(texts, truncation=True)


def contenders(model_dir: Path, names: list[str], batch_size: int, pipeline_batch_size: int,
               threads: int | None) -> dict[str, Callable[[list[str]], object]]:
    runs: dict[str, Callable[[list[str]], object]] = {
        PIPELINE: _pipeline(model_dir, pipeline_batch_size)}
    for name in names:
        classifier = _load(model_dir, name, threads)
        runs[name] = lambda texts, c=classifier: c.predict_proba(texts, batch_size=batch_size)
    return runs


def time_interleaved(runs: dict[str, Callable], texts: list[str], repeats: int
                     ) -> dict[str, list[float]]:
    """Seconds per run of each contender over ``texts``; one warm-up call each first."""
    for run in runs.values():
        run(texts[:16])
    seconds: dict[str, list[float]] = {name: [] for name in runs}
    names = list(runs)
    for repeat in range(repeats):
        for name in names[repeat % len(names):] + names[:repeat % len(names)]:
            clock = time.perf_counter()
            runs[name](texts)
            seconds[name].append(time.perf_counter() - clock)
    return seconds


def speed_table(seconds: dict[str, list[float]], n: int) -> dict[str, dict]:
    base = statistics.median(seconds[PIPELINE])
    return {name: {"seconds": times, "median_s": statistics.median(times),
                   "sentences_per_s": n / statistics.median(times),
                   "ratio_to_pipeline": base / statistics.median(times)}
            for name, times in seconds.items()}


def token_lengths(model_dir: Path, texts: list[str]) -> dict:
    from transformers import AutoTokenizer

    _, meta = load_meta(model_dir)
    lengths = np.array([len(ids) for ids in AutoTokenizer.from_pretrained(model_dir)(texts)[
        "input_ids"]])
    p50, p90, p99 = np.percentile(lengths, [50, 90, 99])
    return {"mean": float(lengths.mean()), "p50": float(p50), "p90": float(p90),
            "p99": float(p99), "max": int(lengths.max()), "max_length": meta["max_length"],
            "over_max_length": float((lengths > meta["max_length"]).mean())}


def quality(model_dir: Path, names: list[str], eval_sets: dict[str, list[dict]],
            threads: int | None) -> dict[str, dict[str, dict]]:
    """Per backend and evaluation set: macro-F1, label agreement with float32 PyTorch and
    the largest probability difference (and, for int8, the share rescored)."""
    out: dict[str, dict[str, dict]] = {}
    reference: dict[str, np.ndarray] = {}
    for name in ["torch", *[n for n in names if n != "torch"]]:
        classifier = _load(model_dir, name, threads)
        out[name] = {}
        for set_name, rows in eval_sets.items():
            probabilities = classifier.predict_proba([r["text"] for r in rows],
                                                     [r.get("context") for r in rows])
            reference.setdefault(set_name, probabilities)
            predicted = probabilities.argmax(1)
            entry = {"n": len(rows),
                     "macro_f1": macro_f1([LABEL2ID[r["label"]] for r in rows], predicted),
                     "agreement_with_torch": float(
                         (predicted == reference[set_name].argmax(1)).mean()),
                     "max_abs_prob_diff": float(np.abs(probabilities - reference[set_name]).max())}
            if name == INT8_ONLY:
                top_two = np.sort(probabilities, axis=1)[:, -2:]
                entry["close_calls"] = float((top_two[:, 1] - top_two[:, 0] < RESCORE_MARGIN)
                                             .mean())
            out[name][set_name] = entry
    return out


def peak_rss_mb(command: list[str]) -> float:
    """Peak resident memory of ``command``, run as the only child of a small wrapper."""
    wrapper = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], "
               "stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True); "
               "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    done = subprocess.run([sys.executable, "-c", wrapper, *command], capture_output=True,
                          text=True, check=True)
    return int(done.stdout.split()[-1]) / 1024  # Linux reports KiB


def score_sentences(model_dir: str, name: str, sentences_file: str, batch_size: str) -> None:
    """A child process for :func:`peak_rss_mb`: one contender scores the sentences."""
    texts = json.loads(Path(sentences_file).read_text(encoding="utf-8"))
    if name == PIPELINE:
        _pipeline(Path(model_dir), int(batch_size))(texts)
    else:
        _load(Path(model_dir), name, None).predict_proba(texts, batch_size=int(batch_size))


def _child(function: str, *args: str) -> list[str]:
    return [sys.executable, "-c", f"import sys; from stancewatch.benchmark import {function}; "
            f"{function}(*sys.argv[1:])", *args]


def whole_document(model_dir: Path, speeches: Path, backend: str, work: Path,
                   threads: int | None, batch_size: int) -> dict:
    """The scoring path on every speech (split, score, write, report) against the model
    alone on the same sentences, with the model loaded once beforehand."""
    classifier = StanceClassifier.load(model_dir, device="cpu", backend=backend,
                                       threads=threads)
    texts = speech_sentences(speeches)
    classifier.predict_proba(texts[:16])
    clock = time.perf_counter()
    classifier.predict_proba(texts, batch_size=batch_size)
    model_only = time.perf_counter() - clock
    clock = time.perf_counter()
    run = score_path(speeches, work / "whole", model_dir, batch_size=batch_size, device="cpu",
                     backend=backend, engine=LocalEngine(classifier), progress=False)
    whole = time.perf_counter() - clock
    return {"backend": classifier.backend, "articles": run.n_articles,
            "sentences": run.n_sentences, "model_only_s": model_only,
            "model_only_per_s": len(texts) / model_only, "whole_document_s": whole,
            "whole_document_per_s": run.n_sentences / whole,
            "whole_over_model_only": (run.n_sentences / whole) / (len(texts) / model_only)}


def score_py_memory(model_dir: Path, speeches: Path, work: Path, scale: int) -> dict:
    """Peak RSS of ``score.py`` (default settings) on the speeches, and on ``scale``
    copies of each. Both read a JSON Lines file of the speeches: the folder also holds
    its README, which score.py would report as an input error."""
    script = str(ROOT / "scripts" / "score.py")
    speeches_read = [item for item in read_articles(speeches)
                     if not isinstance(item, ArticleError)]
    out = {}
    for copies in sorted({1, scale}):
        repeated = work / f"speeches_x{copies}.jsonl"
        with repeated.open("w", encoding="utf-8") as handle:
            for copy in range(copies):
                for item in speeches_read:
                    handle.write(json.dumps({"id": f"{item['id']}#{copy}",
                                             "text": item["text"]}) + "\n")
        out[f"{copies}x"] = peak_rss_mb([sys.executable, script, f"input={repeated}",
                                         f"output_dir={work / f'rss{copies}'}",
                                         f"model_dir={model_dir}"])
    return out


def machine_name() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{cpu}, {available_cpus()} cores"


def run_benchmark(model_dir: Path, speeches: Path, eval_sets: dict[str, list[dict]], *,
                  sentences: int, seed: int, repeats: int, backends: list[str],
                  batch_size: int, pipeline_batch_size: int, threads: int | None,
                  memory_scale: int, work_dir: Path) -> dict:
    """Everything in the module docstring; returns the results record."""
    started, clock, load_before = now(), time.perf_counter(), os.getloadavg()
    unknown = [b for b in backends if b not in (*BACKENDS, INT8_ONLY)]
    if unknown:
        raise ValueError(f"unknown backends {unknown}: choose from {BACKENDS + (INT8_ONLY,)}")
    model_dir, meta = load_meta(model_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    texts = random.Random(seed).sample(speech_sentences(speeches), sentences)
    seconds = time_interleaved(
        contenders(model_dir, backends, batch_size, pipeline_batch_size, threads), texts, repeats)
    sample = work_dir / "sentences.json"
    sample.write_text(json.dumps(texts), encoding="utf-8")
    memory = {name: peak_rss_mb(_child("score_sentences", str(model_dir), name, str(sample),
                                       str(pipeline_batch_size if name == PIPELINE
                                           else batch_size)))
              for name in [PIPELINE, *backends]}
    default = StanceClassifier.load(model_dir, device="cpu").backend
    import onnxruntime
    import torch
    import transformers

    return {
        "date": started[:10], "started": started, "machine": machine_name(),
        "cores": available_cpus(), "threads": threads or available_cpus(),
        "commit": git_commit(), "python": platform.python_version(),
        "torch": torch.__version__, "transformers": transformers.__version__,
        "onnxruntime": onnxruntime.__version__,
        "model": {"dir": str(model_dir.relative_to(ROOT) if model_dir.is_relative_to(ROOT)
                             else model_dir), **{k: meta.get(k) for k in (
            "kind", "backbone", "max_length", "created", "train_data_hash", "git_commit")}},
        "default_backend": default,
        "sentences": {"n": sentences, "seed": seed, "source": str(speeches),
                      "tokens": token_lengths(model_dir, texts)},
        "settings": {"repeats": repeats, "batch_size": batch_size,
                     "pipeline_batch_size": pipeline_batch_size,
                     "rescore_margin": RESCORE_MARGIN},
        "speed": speed_table(seconds, len(texts)),
        "quality": quality(model_dir, backends, eval_sets, threads),
        "peak_rss_mb": memory,
        "whole_document": whole_document(model_dir, speeches, default, work_dir, threads,
                                         batch_size),
        "score_py_peak_rss_mb": score_py_memory(model_dir, speeches, work_dir, memory_scale),
        "wall_seconds": time.perf_counter() - clock,
        # Other jobs on the machine: spinning thread pools (PyTorch's) lose most to them.
        "load_average": {"start": load_before[0], "end": os.getloadavg()[0]},
    }


def _f(value: float, digits: int = 1) -> str:
    return f"{value:,.{digits}f}"


def markdown(result: dict) -> str:
    """The BENCHMARKS.md section for one results record."""
    speed, quality_, memory = result["speed"], result["quality"], result["peak_rss_mb"]
    sets = list(next(iter(quality_.values())))
    tokens, settings = result["sentences"]["tokens"], result["settings"]
    head = ("| runtime | median s | sentences/s | x pipeline | peak RSS MB | "
            + " | ".join(f"macro-F1 {s}" for s in sets)
            + " | same label as torch (lowest set) |")
    lines = [
        f"Run of {result['date']} on {result['machine']} ({result['threads']} threads), "
        f"commit `{(result['commit'] or 'unknown')[:10]}`, model `{result['model']['dir']}` "
        f"({result['model']['backbone']}, created {result['model']['created']}). "
        f"{result['sentences']['n']:,} sentences drawn at random (seed "
        f"{result['sentences']['seed']}) from the speeches, {_f(tokens['mean'])} tokens "
        f"on average (p50 {tokens['p50']:.0f}, p90 {tokens['p90']:.0f}, p99 "
        f"{tokens['p99']:.0f}, max {tokens['max']}; "
        f"{tokens['over_max_length']:.1%} over max_length {tokens['max_length']}); "
        f"{settings['repeats']} interleaved repeats, batch {settings['batch_size']} "
        f"(pipeline {settings['pipeline_batch_size']}).",
        "", head, "|" + "---|" * (6 + len(sets))]
    for name, entry in speed.items():
        scores = quality_.get("torch" if name == PIPELINE else name)
        f1 = [_f(scores[s]["macro_f1"], 4) if scores else "" for s in sets]
        agree = (f"{min(scores[s]['agreement_with_torch'] for s in sets):.2%}"
                 if scores and name not in ("torch", PIPELINE) else "")
        lines.append(f"| {name} | {entry['median_s']:.2f} | {_f(entry['sentences_per_s'])} | "
                     f"{entry['ratio_to_pipeline']:.2f} | {_f(memory[name], 0)} | "
                     + " | ".join(f1) + f" | {agree} |")
    whole = result["whole_document"]
    rss = result["score_py_peak_rss_mb"]
    int8 = quality_.get(INT8_ONLY, {})
    lines += [
        "",
        "The pipeline's labels are float32 PyTorch's (the same network; calibration does "
        "not change the top label), so its macro-F1 is the torch row's.",
        "",
        f"- Default backend: `{result['default_backend']}`. Largest probability difference "
        "from float32 PyTorch: " + "; ".join(
            f"{name} {max(v['max_abs_prob_diff'] for v in quality_[name].values()):.2g}"
            for name in quality_ if name != "torch") + ".",
    ]
    if int8:
        lines.append(f"- Close calls rescored in float32 by onnx_int8 (margin "
                     f"{result['settings']['rescore_margin']}): " + "; ".join(
                         f"{s} {v['close_calls']:.1%}" for s, v in int8.items()) + ".")
    lines += [
        f"- Whole documents: {whole['articles']} speeches, {whole['sentences']:,} sentences "
        f"through the scoring path (split, score with `{whole['backend']}`, write, report) in "
        f"{whole['whole_document_s']:.1f} s = {_f(whole['whole_document_per_s'])} sentences/s; "
        f"the model alone on the same sentences: {_f(whole['model_only_per_s'])} sentences/s "
        f"(whole-document rate = {whole['whole_over_model_only']:.0%} of it).",
        "- Peak RSS of `score.py` (default settings): " + "; ".join(
            f"{k} the speeches {_f(v, 0)} MB" for k, v in rss.items()) + ".",
        f"- The whole run took {result['wall_seconds'] / 60:.0f} minutes. Load average "
        f"(1 min) at its start and end: {result['load_average']['start']:.1f} and "
        f"{result['load_average']['end']:.1f} on {result['cores']} cores: other jobs shared "
        "the machine, which slows PyTorch's spinning thread pool (the pipeline and torch "
        "rows) more than ONNX Runtime's, set here not to spin.",
    ]
    return "\n".join(lines)


def write_results(result: dict, results_dir: Path, markdown_path: Path) -> Path:
    """``<results_dir>/<date>-<machine>.json`` and the generated part of BENCHMARKS.md
    (between its ``bench:start`` and ``bench:end`` markers)."""
    threads = "" if result["threads"] == result["cores"] else f"-{result['threads']}-threads"
    slug = "".join(c if c.isalnum() else "-" for c in result["machine"].lower() + threads)
    path = results_dir / f"{result['date']}-{'-'.join(filter(None, slug.split('-')))}.json"
    write_json(path, result)
    start, end = "<!-- bench:start -->", "<!-- bench:end -->"
    text = markdown_path.read_text(encoding="utf-8")
    before, rest = text.split(start, 1)
    after = rest.split(end, 1)[1]
    generated = (f"{start}\n<!-- generated by scripts/bench.py from "
                 f"{path.relative_to(markdown_path.parent)}; do not edit by hand -->\n"
                 f"{markdown(result)}\n{end}")
    markdown_path.write_text(before + generated + after, encoding="utf-8")
    return path
