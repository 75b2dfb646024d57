"""A training run killed mid-epoch (SIGKILL, twice: once while a checkpoint is being
saved, once between checkpoints) and resumed ends where an uninterrupted run with the
same seed ends: the same weights and the same metrics."""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT
from safetensors.numpy import load_file

# 72 training sentences in batches of 8: 9 steps an epoch, a checkpoint every 3 steps.
SETTINGS = ["trainer.max_steps=null", "trainer.epochs=2", "trainer.batch_size=8",
            "trainer.eval_steps=3", "trainer.lr=1e-3", "trainer.patience=100"]


def _train(run_dir: Path, corpus: Path, backbone: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(ROOT / "scripts" / "train.py"), f"hydra.run.dir={run_dir}",
         f"data.corpus={corpus}", "data.real_labels=null", f"model.backbone={backbone}",
         "model.max_length=32", "trainer=smoke", "trainer.progress_bar=false", "device=cpu",
         *SETTINGS, *extra], cwd=run_dir.parent, stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE, text=True, env={**os.environ, "PROJECT_ROOT": str(run_dir.parent)})


def _kill_when(process: subprocess.Popen, path: Path, delay: float) -> None:
    deadline = time.monotonic() + 300
    while not path.exists():
        assert process.poll() is None, process.communicate()[1][-3000:]
        assert time.monotonic() < deadline
        time.sleep(0.01)
    time.sleep(delay)
    process.send_signal(signal.SIGKILL)
    process.wait()


def test_killed_mid_epoch_and_resumed_ends_like_an_uninterrupted_run(train_tiny, corpus,
                                                                    tiny_backbone, tmp_path):
    whole = train_tiny(*SETTINGS, run_dir=tmp_path / "whole")
    run_dir = tmp_path / "killed"
    checkpoints = run_dir / "checkpoints"
    run_dir.mkdir()
    # First kill: as soon as the step-3 checkpoint folder appears, while it is being saved.
    _kill_when(_train(run_dir, corpus, tiny_backbone), checkpoints / "checkpoint-3", 0)
    # Killed mid-save, there is nothing whole to resume from yet: start again.
    again = ["resume=true"] if (checkpoints / "checkpoint-3" / "trainer_state.json").is_file() \
        else []
    # Second kill: mid-epoch, right after the step-6 checkpoint.
    _kill_when(_train(run_dir, corpus, tiny_backbone, *again),
               checkpoints / "checkpoint-6" / "trainer_state.json", 0)
    assert not (checkpoints / "checkpoint-9").exists()
    # What a kill while saving the step-9 checkpoint leaves: its trainer state cut short.
    shutil.copytree(checkpoints / "checkpoint-6", checkpoints / "checkpoint-9")
    state = checkpoints / "checkpoint-9" / "trainer_state.json"
    state.write_bytes(state.read_bytes()[:100])
    assert not (run_dir / "metrics.json").exists(), "killed before the end"
    done = _train(run_dir, corpus, tiny_backbone, "resume=true")
    _, stderr = done.communicate(timeout=600)
    assert done.returncode == 0, stderr[-3000:]

    metrics = [json.loads((d / "metrics.json").read_text()) for d in (whole, run_dir)]
    assert metrics[1]["train"]["resumed_from_step"] == 6, "resumed mid-epoch 1"
    assert metrics[1]["train"]["global_step"] == metrics[0]["train"]["global_step"] == 18
    for name in ("test", "validation"):
        assert metrics[1][name] == metrics[0][name], name
    assert metrics[1]["calibration"]["temperature"] == pytest.approx(
        metrics[0]["calibration"]["temperature"], rel=1e-6)
    # The weights at the last step, not only the best checkpoint's (which can come from
    # before the kill), and every training loss logged after the resume point.
    for name in ("checkpoint-18", Path(metrics[0]["train"]["best_checkpoint"]).name):
        weights = [load_file(d / "checkpoints" / name / "model.safetensors")
                   for d in (whole, run_dir)]
        assert weights[0].keys() == weights[1].keys()
        assert max(abs(weights[0][k] - weights[1][k]).max() for k in weights[0]) < 1e-6, name
    losses = [[row for row in csv.DictReader((d / "log_history.csv").open()) if row["loss"]]
              for d in (whole, run_dir)]
    assert len(losses[0]) == 9  # one every 2 steps
    assert [(r["step"], r["loss"]) for r in losses[0]] == [(r["step"], r["loss"]) for r in
                                                            losses[1]]
