"""Run records (``run.json``): what a run was and what it measured, in one file that
comparison tools read."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

RECORD_FILE = "run.json"


def dataset_suffix(dataset: str) -> str:
    """How a run names its per-dataset files: ``predictions.jsonl`` for the test split,
    ``predictions_<dataset>.jsonl`` for the others (likewise report and confusion matrix)."""
    return "" if dataset == "test" else f"_{dataset}"


def flatten(config: dict, prefix: str = "") -> dict:
    """Nested dicts to dotted keys; lists become JSON strings so values stay scalar."""
    flat = {}
    for key, value in config.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, f"{dotted}."))
        elif isinstance(value, (list, tuple)):
            flat[dotted] = json.dumps(list(value))
        else:
            flat[dotted] = value
    return flat


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def read_record(run_dir: Path) -> dict:
    return json.loads((Path(run_dir) / RECORD_FILE).read_text(encoding="utf-8"))


def write_record(run_dir: Path, record: dict) -> None:
    path = Path(run_dir) / RECORD_FILE
    path.write_text(json.dumps(record, indent=2, ensure_ascii=False, default=str),
                    encoding="utf-8")
