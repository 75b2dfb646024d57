"""One training run: data and model from the config, fit, calibrate, evaluate, and
write everything into the run directory."""

from __future__ import annotations

import csv
import logging
import os
import shutil
import time
from pathlib import Path

import numpy as np
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf
from transformers import set_seed

from .calibration import fit_temperature, softmax_with_temperature
from .data import model_inputs
from .evaluation import evaluate_rows, write_evaluation
from .inference import StanceClassifier
from .labels import LABEL2ID, LABELS
from .metrics import expected_calibration_error, macro_f1
from .model_card import write_model_card
from .records import (
    META_FILE,
    dataset_suffix,
    flatten,
    git_commit,
    now,
    read_record,
    write_json,
    write_record,
)

log = logging.getLogger(__name__)


def _write_log_history(history: list[dict], path: Path) -> None:
    keys = sorted({k for row in history for k in row})
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=keys)
        writer.writeheader()
        writer.writerows(history)


def _calibrate(model, rows: list[dict], context: bool, sets: list[str]) -> dict:
    """Fit the temperature on ``rows`` (the selection sets, named ``sets``)."""
    texts, contexts = model_inputs(rows, context)
    logits = model.logits(texts, contexts)
    y = np.array([LABEL2ID[r["label"]] for r in rows])
    temperature = fit_temperature(logits, y)
    return {
        "temperature": temperature,
        "fitted_on": sets,
        "ece_before": expected_calibration_error(softmax_with_temperature(logits), y),
        "ece_after": expected_calibration_error(softmax_with_temperature(logits, temperature), y),
    }


def export_model(model_dir: Path, export: Path) -> None:
    """Copy a run's trained model (``<run dir>/model``, after its ``run.json`` is written)
    to ``export`` with a model card, replacing only an earlier model there."""
    if export.exists():
        if not (export / META_FILE).is_file():
            raise FileExistsError(f"export_dir {export} exists and holds no stancewatch model "
                                  "(no stancewatch.json): refusing to replace it")
        shutil.rmtree(export)
    shutil.copytree(model_dir, export)
    # The card names the folder it is in, so the copy gets its own.
    write_model_card(export, read_record(model_dir.parent))
    log.info("model exported to %s", export)


def is_main_process() -> bool:
    """False in every process but the first under torchrun or accelerate launch."""
    return os.environ.get("RANK", "0") == "0"


def run_training(cfg: DictConfig, run_dir: Path) -> float:
    """Train as configured; returns the selection sets' macro-F1 (the sweep objective)."""
    started, clock = now(), time.perf_counter()
    run_dir = Path(run_dir)
    set_seed(cfg.seed)
    for key, value in (cfg.logger.get("env") or {}).items():
        os.environ.setdefault(key, str(value))
    data = instantiate(cfg.data)
    model = instantiate(cfg.model)
    use_context = data.context == "previous"
    settings = {**OmegaConf.to_container(cfg.trainer, resolve=True),
                "report_to": list(cfg.logger.report_to)}
    log.info("training %s on %d sentences (%s; context=%s), selecting on %s", model.kind,
             len(data.splits["train"]),
             ", ".join(f"{k} {v}" for k, v in data.train_sources.items()), data.context,
             " + ".join(data.selection_sets))
    fit_clock = time.perf_counter()
    info = model.fit(data.splits["train"], data.selection, context=use_context,
                       settings=settings, work_dir=run_dir / "checkpoints", seed=cfg.seed,
                       resume=bool(cfg.resume),
                       monitor={name: data.splits[name] for name in data.monitor_sets})
    train_seconds = time.perf_counter() - fit_clock
    if not is_main_process():
        # Under torchrun or accelerate launch, the first process writes the run's files.
        return info["best_selection_macro_f1"]
    if info.get("log_history"):
        _write_log_history(info.pop("log_history"), run_dir / "log_history.csv")
    calibration = _calibrate(model, data.selection, use_context, data.selection_sets)
    meta = {
        "kind": model.kind,
        "labels": list(LABELS),
        "context": data.context,
        "temperature": calibration["temperature"],
        "train_data_hash": data.train_hash,
        "train_sources": data.train_sources,
        "selected_on": data.selection_sets,
        "git_commit": git_commit(),
        "created": now(),
        **model.describe(),
    }
    classifier = StanceClassifier(model, meta)
    classifier.save(run_dir / "model")
    metrics = {"calibration": calibration,
               "train": {"n": len(data.splits["train"]), "sources": data.train_sources,
                         "seconds": train_seconds, **info}}
    selected: list[dict] = []  # predictions on the selection sets, pooled
    for name in data.eval_sets:
        metrics[name], predictions = evaluate_rows(classifier, data.splits[name])
        write_evaluation(run_dir, name, metrics[name], predictions, dataset_suffix(name))
        log.info("%s: macro-F1 %.3f (n=%d)", name, metrics[name]["macro_f1"], metrics[name]["n"])
        if name in data.selection_sets:
            selected += predictions
    metrics["train"]["selection_macro_f1"] = macro_f1(
        [LABEL2ID[p["label"]] for p in selected], [LABEL2ID[p["predicted"]] for p in selected])
    write_json(run_dir / "metrics.json", metrics)
    write_record(run_dir, {
        "name": cfg.name, "tags": list(cfg.tags), "kind": "train",
        "run_dir": str(run_dir), "started": started, "ended": now(),
        "wall_seconds": time.perf_counter() - clock, "git_commit": meta["git_commit"],
        "data_hash": data.train_hash,
        "config": flatten(OmegaConf.to_container(cfg, resolve=True)),
        "model_parameters": meta["parameters"],
        "model_bytes": sum(f.stat().st_size for f in (run_dir / "model").rglob("*") if f.is_file()),
        "metrics": {name: metrics[name] for name in data.eval_sets},
        "train": metrics["train"], "calibration": calibration,
    })
    write_model_card(run_dir / "model")
    if cfg.get("export_dir"):
        export_model(run_dir / "model", Path(cfg.export_dir))
    return metrics["train"]["selection_macro_f1"]
