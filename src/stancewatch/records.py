"""Run records (``run.json``): what a run was and what it measured, in one file that
comparison tools read."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

RECORD_FILE = "run.json"
META_FILE = "stancewatch.json"  # a saved model's settings, inside its folder


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
    write_json(Path(run_dir) / RECORD_FILE, record)


def write_json(path: str | Path, payload: dict) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False, default=str),
                    encoding="utf-8")


def write_jsonl(path: str | Path, rows: Iterable[dict]) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for row in rows:
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")


def git_commit() -> str | None:
    """The checkout's commit, recorded so a run can be traced to its code."""
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                             cwd=Path(__file__).parent, check=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None
