"""Training at scale: ``torchrun`` runs scripts/train.py unchanged in two CPU processes
(gloo), each on its share of the data, and the first one writes the run."""

from __future__ import annotations

import csv
import json
import shutil
import subprocess
import sys
from pathlib import Path

from conftest import ROOT, tiny_overrides

from stancewatch import StanceClassifier


def test_torchrun_trains_on_two_processes(tmp_path, corpus, tiny_backbone):
    torchrun = shutil.which("torchrun", path=str(Path(sys.executable).parent))
    assert torchrun, "torchrun comes with torch"
    overrides = tiny_overrides(tmp_path, corpus, tiny_backbone, "run_id=ddp",
                               "trainer.max_steps=4", "trainer.eval_steps=4",
                               "trainer.logging_steps=1", "trainer.group_by_length=false")
    done = subprocess.run(
        [torchrun, "--standalone", "--nproc_per_node=2", str(ROOT / "scripts" / "train.py"),
         *overrides], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-4000:]
    run_dir = tmp_path / "outputs" / "runs" / "ddp"
    record = json.loads((run_dir / "run.json").read_text())
    assert record["train"]["global_step"] == 4
    with (run_dir / "log_history.csv").open(newline="") as handle:
        history = [row for row in csv.DictReader(handle) if row.get("loss")]
    # 72 training sentences in batches of 32 on each of 2 processes: 2 steps an epoch
    # (one process would take 3).
    assert float(history[1]["epoch"]) == 1.0
    # Near-uniform predictions at the start: cross-entropy about ln 3, not scaled by the
    # number of processes.
    assert 0.9 < float(history[0]["loss"]) < 1.3
    classifier = StanceClassifier.load(run_dir / "model", device="cpu", backend="torch")
    assert classifier.predict("Norland attacked the port at dawn.")["label"]
