"""Run comparison: records, seed groups, the table, the paired bootstrap and the CLI."""

from __future__ import annotations

import csv
import json
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from stancewatch.compare import (
    build_table,
    compare_pair,
    discover_runs,
    load_run,
    metric_value,
    paired_bootstrap,
    render_errors,
    to_markdown,
)
from stancewatch.labels import LABELS
from stancewatch.metrics import macro_f1
from stancewatch.records import flatten, read_record, write_record

ROOT = Path(__file__).resolve().parents[1]
METRIC_KEYS = {"n", "accuracy", "macro_f1", "per_class", "confusion_matrix", "ece"}
RECORD_KEYS = {"name", "tags", "started", "ended", "wall_seconds", "git_commit", "data_hash",
               "config", "model_parameters", "model_bytes", "metrics", "train"}


def fake_record(name: str, seed: int, *, lr: float = 1e-4, f1: float = 0.8,
                tags: tuple[str, ...] = ("variant",),
                started: str = "2026-03-01T12:00:00+00:00") -> dict:
    """A training record shaped like run_training's, with paths that differ per run."""
    scores = {"n": 30, "accuracy": f1, "macro_f1": f1, "ece": 0.05,
              "per_class": {label: {"precision": f1, "recall": f1, "f1": f1, "support": 10}
                            for label in LABELS},
              "confusion_matrix": [[10, 0, 0], [0, 10, 0], [0, 0, 10]]}
    run_id = f"{started[:10]}-{name}-{seed}-{lr}"
    config = {"name": name, "tags": list(tags), "seed": seed, "resume": False, "export_dir": None,
              "run_id": run_id, "paths": {"root_dir": f"/somewhere/{run_id}"},
              "model": {"_target_": "stancewatch.baselines.TfidfLogReg"},
              "trainer": {"lr": lr, "epochs": 2}}
    return {"name": name, "tags": list(tags), "kind": "train", "run_dir": run_id,
            "started": started, "ended": started, "wall_seconds": 2.0, "git_commit": "abc",
            "data_hash": "d1", "config": flatten(config), "model_parameters": 1000,
            "model_bytes": 4_000_000, "metrics": {"test": scores, "validation": scores},
            "train": {"n": 100, "seconds": 1.5}}


def write_run(root: Path, record: dict, predictions: list[dict] | None = None) -> Path:
    run_dir = root / record["run_dir"]
    run_dir.mkdir(parents=True)
    write_record(run_dir, record)
    if predictions is not None:
        (run_dir / "predictions.jsonl").write_text(
            "".join(json.dumps(row) + "\n" for row in predictions), encoding="utf-8")
    return run_dir


def prediction(i: int, gold: str, predicted: str, hard_case: str | None = None) -> dict:
    scores = {label: 0.8 if label == predicted else 0.1 for label in LABELS}
    row = {"id": f"s{i}", "text": f"sentence {i}", "label": gold, "predicted": predicted,
           "scores": scores}
    return {**row, "hard_case": hard_case} if hard_case else row


def wrong(label: str) -> str:
    return LABELS[(LABELS.index(label) + 1) % len(LABELS)]


@pytest.fixture()
def seed_runs(tmp_path) -> Path:
    """Three runs differing only in seed, and one with another learning rate."""
    for seed, f1 in ((1, 0.70), (2, 0.75), (3, 0.80)):
        write_run(tmp_path, fake_record("minilm", seed, f1=f1))
    write_run(tmp_path, fake_record("minilm", 1, lr=5e-5, f1=0.6))
    return tmp_path


def run_cli(*overrides: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "scripts" / "compare_runs.py"), *overrides],
                          capture_output=True, text=True, cwd=ROOT, check=False)


def test_records_are_complete_and_round_trip(train_tiny, tmp_path):
    run_dir = train_tiny("name=tiny")
    record = read_record(run_dir)
    assert RECORD_KEYS <= record.keys()
    assert {"test", "validation"} <= record["metrics"].keys()
    for scores in record["metrics"].values():
        assert METRIC_KEYS <= scores.keys()
        assert set(scores["per_class"]) == set(LABELS)
        for row in scores["per_class"].values():
            assert {"precision", "recall", "f1", "support"} <= row.keys()
    assert record["train"]["seconds"] > 0
    assert record["model_bytes"] > 0 and record["model_parameters"] > 0
    assert not any(isinstance(value, dict) for value in record["config"].values())
    assert record["config"]["name"] == "tiny"
    first = json.loads((run_dir / "predictions.jsonl").read_text().splitlines()[0])
    assert {"id", "text", "label", "predicted", "scores"} <= first.keys()
    assert (run_dir / "predictions_validation.jsonl").is_file()

    copy = tmp_path / "copy"
    copy.mkdir()
    write_record(copy, record)
    assert read_record(copy) == record


def test_seed_groups_pool_into_one_row(seed_runs):
    table = build_table(discover_runs(seed_runs))
    assert len(table.rows) == 2
    pooled = next(row for row in table.rows if len(row.runs) == 3)
    assert sorted(pooled.seeds) == [1, 2, 3]
    assert pooled.mean("test.macro_f1") == pytest.approx(0.75)
    assert pooled.std("test.macro_f1") == pytest.approx(0.05)   # sample std across seeds
    single = next(row for row in table.rows if len(row.runs) == 1)
    assert single.std("test.macro_f1") is None
    assert table.rows[0] is pooled                             # sorted by test macro-F1
    assert "0.750 ± 0.050" in to_markdown(table)
    assert len(build_table(discover_runs(seed_runs), group_seeds=False).rows) == 4


def test_table_shows_only_differing_settings(seed_runs):
    table = build_table(discover_runs(seed_runs))
    assert table.keys == ["trainer.lr"]
    header = to_markdown(table).splitlines()[0]
    for volatile in ("seed", "run_id", "paths.root_dir", "trainer.epochs", "name"):
        assert f" {volatile} |" not in header
    # the news sets are in the default metrics but no run has them, so they are not columns
    assert not any(m.startswith("news_") for m in table.metrics)
    assert {"test.macro_f1", "train.seconds", "model_mb"} <= set(table.metrics)


def test_metric_names():
    record = fake_record("x", 1, f1=0.6)
    record["metrics"]["news_test"] = {**record["metrics"]["test"], "macro_f1": 0.4}
    assert metric_value(record, "test.f1.hostile") == pytest.approx(0.6)
    assert metric_value(record, "news_test.macro_f1") == pytest.approx(0.4)
    assert metric_value(record, "train.seconds") == pytest.approx(1.5)
    assert metric_value(record, "model_mb") == pytest.approx(4.0)
    assert metric_value(record, "wall_seconds") == pytest.approx(2.0)
    assert metric_value(record, "nosuch.macro_f1") is None


def test_discovery_filters(tmp_path):
    write_run(tmp_path, fake_record("tfidf", 1, tags=("baseline",),
                                    started="2026-01-05T09:00:00+00:00"))
    write_run(tmp_path / "multirun-x", fake_record("context", 1,
                                                   started="2026-02-10T09:00:00+00:00"))
    evaluation = {**fake_record("evaluate-real", 1), "kind": "evaluate", "run_dir": "eval"}
    write_run(tmp_path, evaluation)
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "run.json").write_text("{", encoding="utf-8")

    def names(**filters) -> list[str]:
        return [run.name for run in discover_runs(tmp_path, **filters)]

    assert names() == ["tfidf", "context"]                     # oldest first
    assert names(tag="baseline") == ["tfidf"]
    assert names(name="con*") == ["context"]
    assert names(since="2026-02-10") == ["context"]
    assert names(until="2026-01-05") == ["tfidf"]
    with pytest.raises(ValueError, match="not a date"):
        discover_runs(tmp_path, since="last week")


def synthetic(n: int, p_a: float, p_b: float, rng: random.Random):
    """Gold labels and two independent models right with probabilities p_a and p_b."""
    gold = [rng.choice(LABELS) for _ in range(n)]
    a = [g if rng.random() < p_a else wrong(g) for g in gold]
    b = [g if rng.random() < p_b else wrong(g) for g in gold]
    return gold, a, b


def ids(labels: list[str]) -> list[int]:
    return [LABELS.index(label) for label in labels]


def test_bootstrap_covers_the_true_difference():
    rng = random.Random(7)
    gold, a, b = synthetic(200_000, 0.70, 0.78, rng)
    true_f1 = macro_f1(ids(gold), ids(b)) - macro_f1(ids(gold), ids(a))
    covered = {"macro_f1": 0, "accuracy": 0}
    trials = 40
    for trial in range(trials):
        gold, a, b = synthetic(300, 0.70, 0.78, rng)
        intervals = paired_bootstrap(gold, a, b, resamples=1000, seed=trial)
        # the point estimates are the usual metrics on the sample
        assert intervals["macro_f1"].b == pytest.approx(macro_f1(ids(gold), ids(b)))
        assert intervals["accuracy"].a == pytest.approx(np.mean(np.array(a) == np.array(gold)))
        for metric, truth in (("macro_f1", true_f1), ("accuracy", 0.08)):
            covered[metric] += intervals[metric].low <= truth <= intervals[metric].high
    # 95 % intervals: about 38 of 40; fewer than 32 would mean they are far too narrow
    assert min(covered.values()) >= 32


def test_bootstrap_excludes_zero_when_one_model_is_strictly_better():
    rng = random.Random(3)
    gold = [rng.choice(LABELS) for _ in range(400)]
    # A right on the first 60 %; B right on the same sentences plus 15 % more
    a = [g if i < 240 else wrong(g) for i, g in enumerate(gold)]
    b = [g if i < 300 else wrong(g) for i, g in enumerate(gold)]
    intervals = paired_bootstrap(gold, a, b)
    for interval in intervals.values():
        assert interval.low > 0 and interval.verdict == "B is better"
    assert intervals["accuracy"].delta == pytest.approx(0.15)
    assert paired_bootstrap(gold, b, a)["macro_f1"].verdict == "A is better"


def test_bootstrap_includes_zero_for_equal_models():
    rng = random.Random(5)
    gold = [rng.choice(LABELS) for _ in range(400)]
    a = [g if i < 280 else wrong(g) for i, g in enumerate(gold)]
    same = paired_bootstrap(gold, a, list(a))
    assert same["macro_f1"].low == same["macro_f1"].high == 0
    # as good, but right on other sentences
    b = [g if i >= 120 else wrong(g) for i, g in enumerate(gold)]
    for interval in (*same.values(), *paired_bootstrap(gold, a, b).values()):
        assert interval.low <= 0 <= interval.high
        assert interval.verdict == "A and B are not distinguishable"


def test_pair_joins_by_id_and_lists_disagreements(tmp_path):
    gold = ["hostile", "conditional", "neutral", "neutral"]
    preds_a = [prediction(i, g, g) for i, g in enumerate(gold)]
    preds_b = [prediction(i, g, wrong(g) if i == 1 else g) for i, g in enumerate(gold)]
    preds_b = [*reversed(preds_b), prediction(9, "neutral", "neutral")]   # order and extras
    a = load_run(write_run(tmp_path, fake_record("a", 1), preds_a))
    b = load_run(write_run(tmp_path, fake_record("b", 1, lr=1.0), preds_b))
    pair = compare_pair(a, b, resamples=200)
    assert pair.sizes == (4, 5, 4)
    assert pair.disagreements == [{"id": "s1", "text": "sentence 1", "gold": "conditional",
                                   "a": "conditional", "b": "neutral"}]
    assert pair.intervals["accuracy"].delta == pytest.approx(-0.25)

    relabelled = [{**row, "label": wrong(row["label"])} for row in preds_a]
    c = load_run(write_run(tmp_path, fake_record("c", 1, lr=2.0), relabelled))
    with pytest.raises(ValueError, match="not the same test set"):
        compare_pair(a, c)


def test_errors_grouped_by_hard_case():
    preds_a = [prediction(0, "hostile", "neutral", "reported_threat"),
               prediction(1, "neutral", "neutral", "reported_threat"),
               prediction(2, "conditional", "neutral")]
    preds_b = [prediction(0, "hostile", "hostile", "reported_threat"),
               prediction(1, "neutral", "neutral", "reported_threat"),
               prediction(2, "conditional", "hostile")]
    text = render_errors({"A": preds_a, "B": preds_b})
    assert "| reported_threat | 2 | 1 | 0 |" in text
    assert "| untagged | 1 | 1 | 1 |" in text
    assert "| s2 | conditional | neutral | hostile | sentence 2 |" in text


def test_cli_table(seed_runs, tmp_path):
    out = tmp_path / "out"
    result = run_cli(f"runs_dir={seed_runs}", "tag=variant", f"output_dir={out}")
    assert result.returncode == 0, result.stderr
    assert "0.750 ± 0.050" in result.stdout
    written = {path.name for path in out.iterdir()}
    assert {"comparison.md", "comparison.csv", "per_class_f1.png"} <= written
    with (out / "comparison.csv").open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["n"] for row in rows] == ["3", "1"]
    assert float(rows[0]["test.macro_f1_std"]) == pytest.approx(0.05)
    missing = run_cli(f"runs_dir={seed_runs}", "tag=nosuch", f"output_dir={out}")
    assert missing.returncode != 0 and "no training runs" in missing.stderr


def test_cli_pair_on_real_runs(train_tiny, tmp_path):
    run_a = train_tiny("name=tiny-a", "seed=1")
    run_b = train_tiny("name=tiny-b", "seed=2", "trainer.lr=1e-3")
    out = tmp_path / "pair"
    missing = run_cli(f"a={run_a}", f"b={run_b}", f"output_dir={out}", "dataset=news_dev")
    assert missing.returncode != 0 and "no predictions on 'news_dev'" in missing.stderr
    result = run_cli(f"a={run_a}", f"b={run_b}", f"output_dir={out}", "resamples=300",
                     "dataset=test")
    assert result.returncode == 0, result.stderr
    assert "Paired bootstrap on the" in result.stdout
    assert "**Macro-F1: " in result.stdout
    assert (out / "pairwise.md").read_text(encoding="utf-8").startswith("A: tiny-a")
    lines = (out / "disagreements.jsonl").read_text(encoding="utf-8").splitlines()
    assert f"They disagree on {len(lines)} sentences" in result.stdout
