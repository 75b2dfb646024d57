"""Scoring labelled examples with a saved model and writing what a reader needs:
metrics, per-example predictions, a per-class report and a confusion-matrix plot."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from .data import DataError, add_previous_context, data_hash, read_jsonl
from .inference import StanceClassifier
from .labels import LABEL2ID, LABELS
from .metrics import (
    classification_metrics,
    expected_calibration_error,
    format_report,
    plot_confusion,
)
from .model_card import write_model_card
from .records import (
    RECORD_FILE,
    git_commit,
    now,
    read_record,
    write_json,
    write_jsonl,
    write_record,
)

# Sets a training run evaluates itself; an evaluation may not reuse their names.
TRAINING_SETS = ("test", "validation", "speech_dev", "news_dev", "news_test")
BATCHES_PER_UPDATE = 4
_KEPT = ("article_id", "position", "hard_case", "source_label", "sampled_by")


def evaluate_rows(classifier: StanceClassifier, rows: list[dict],
                  batch_size: int = 64) -> tuple[dict, list[dict]]:
    """Metrics (plus ``ece``) and one prediction record per row. A progress bar shows
    while it runs and goes when it is done."""
    # A few whole batches per bar update; each chunk is length-sorted on its own.
    step = batch_size * BATCHES_PER_UPDATE
    parts = []
    with tqdm(total=len(rows), desc="evaluating", unit="sentence", leave=False,
              file=sys.stderr) as bar:
        for start in range(0, len(rows), step):
            chunk = rows[start:start + step]
            parts.append(classifier.predict_proba(
                [r["text"] for r in chunk], [r.get("context") for r in chunk], batch_size))
            bar.update(len(chunk))
    probabilities = np.concatenate(parts) if parts else np.zeros((0, len(LABELS)))
    y_true = np.array([LABEL2ID[r["label"]] for r in rows])
    y_pred = probabilities.argmax(1)
    metrics = classification_metrics(y_true, y_pred)
    metrics["ece"] = expected_calibration_error(probabilities, y_true)
    predictions = [
        {"id": row["id"], "text": row["text"], "label": row["label"],
         "predicted": LABELS[int(pred)],
         "scores": {label: float(p[i]) for i, label in enumerate(LABELS)},
         **{k: row[k] for k in _KEPT if row.get(k) is not None}}
        for row, pred, p in zip(rows, y_pred, probabilities, strict=True)
    ]
    return metrics, predictions


def write_evaluation(out_dir: Path, name: str, metrics: dict, predictions: list[dict],
                     suffix: str = "") -> None:
    """Write ``predictions{suffix}.jsonl``, ``report{suffix}.txt`` and
    ``confusion_matrix{suffix}.png`` into ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    write_jsonl(out_dir / f"predictions{suffix}.jsonl", predictions)
    (out_dir / f"report{suffix}.txt").write_text(format_report(metrics, name), encoding="utf-8")
    plot_confusion(metrics["confusion_matrix"], out_dir / f"confusion_matrix{suffix}.png", name)


def evaluate_file(model_dir: str | Path | None, data_path: str | Path, output_dir: str | Path,
                  batch_size: int = 64, device: str = "auto", name: str | None = None,
                  split: str | None = None, backend: str = "auto") -> dict:
    """Score a labelled JSON Lines file (only its rows with ``split`` when given); write
    metrics.json, predictions.jsonl, a report and a confusion matrix into ``output_dir``;
    add the result to the model's run record (and model card) when the model comes from a
    run directory.
    Returns the metrics."""
    started, clock = now(), time.perf_counter()
    rows = add_previous_context(read_jsonl(data_path))
    if split is not None:
        rows = [r for r in rows if r.get("split") == split]
        if not rows:
            raise DataError(f"{data_path}: no rows with split={split!r}")
    output_dir = Path(output_dir)
    name = name or Path(data_path).stem + (f"_{split}" if split else "")
    run_dir = Path(model_dir).resolve().parent if model_dir is not None else None
    record = None
    if run_dir is not None and (run_dir / RECORD_FILE).is_file():
        record = read_record(run_dir)
        if output_dir.resolve() == run_dir:
            raise ValueError(f"output_dir {output_dir} is the model's run directory: "
                             "its own files would be overwritten")
        if name in TRAINING_SETS and name in record.get("metrics", {}):
            raise ValueError(f"the run already has metrics named {name!r} from training: "
                             "pass data.name= to name this evaluation")
    classifier = StanceClassifier.load(model_dir, device=device, backend=backend)
    metrics, predictions = evaluate_rows(classifier, rows, batch_size)
    write_json(output_dir / "metrics.json", metrics)
    write_evaluation(output_dir, name, metrics, predictions)
    entry = {"dataset": name, "backend": classifier.backend, "data_path": str(data_path),
             "data_hash": data_hash(rows),
             "output_dir": str(output_dir), "evaluated": now()}
    write_record(output_dir, {
        "name": f"evaluate-{name}", "tags": ["evaluation"], "kind": "evaluate",
        "run_dir": str(output_dir), "model_dir": str(model_dir), "started": started,
        "ended": now(), "wall_seconds": time.perf_counter() - clock,
        "git_commit": git_commit(), "data_hash": entry["data_hash"],
        "config": {"backend": classifier.backend}, "metrics": {name: metrics}})
    if record is not None:
        record.setdefault("metrics", {})[name] = metrics
        record.setdefault("evaluations", []).append(entry)
        write_record(run_dir, record)
        write_model_card(model_dir, record)
    return metrics
