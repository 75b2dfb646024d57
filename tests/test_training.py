"""The training and evaluation path, run for real on a tiny random BERT."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, make_rows, write_jsonl

from stancewatch import LABELS, StanceClassifier
from stancewatch.data import (
    DataError,
    StanceData,
    add_previous_context,
    load_real,
    read_jsonl,
    read_jsonl_labels,
)
from stancewatch.evaluation import evaluate_file

RUN_OUTPUTS = ["model/stancewatch.json", "model/config.json", "model/model.safetensors",
               "model/tokenizer.json", "metrics.json", "predictions.jsonl", "report.txt",
               "confusion_matrix.png", "run.json", "log_history.csv"]


def read_predictions(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_script_writes_every_run_output(tmp_path, corpus, tiny_backbone):
    run_dir = tmp_path / "run"
    cmd = [sys.executable, str(ROOT / "scripts" / "train.py"), f"hydra.run.dir={run_dir}",
           f"data.corpus={corpus}", "data.real_labels=null", f"model.backbone={tiny_backbone}",
           "model.max_length=32", "trainer=smoke", "trainer.progress_bar=false", "device=cpu",
           "trainer.lr=3e-4", "name=cli"]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path,
                          env={**os.environ, "PROJECT_ROOT": str(tmp_path)}, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    for name in [*RUN_OUTPUTS, ".hydra/config.yaml"]:
        assert (run_dir / name).is_file(), name
    meta = json.loads((run_dir / "model/stancewatch.json").read_text())
    assert meta["labels"] == list(LABELS)
    assert meta["context"] == "none" and meta["max_length"] == 32
    assert meta["train_data_hash"] and meta["temperature"] > 0
    assert not list((run_dir / "model").glob("*.bin")), "weights must be safetensors only"
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert set(metrics) >= {"test", "validation", "calibration", "train"}
    assert metrics["test"]["n"] == len(read_predictions(run_dir / "predictions.jsonl")) == 24
    resolved = (run_dir / ".hydra/config.yaml").read_text()
    assert "lr: 0.0003" in resolved


def test_resume_continues_from_last_checkpoint(train_tiny, tmp_path):
    run_dir = tmp_path / "resumable"
    train_tiny("trainer.max_steps=4", "trainer.eval_steps=2", run_dir=run_dir)
    assert (run_dir / "checkpoints" / "checkpoint-4").is_dir()
    train_tiny("trainer.max_steps=8", "trainer.eval_steps=2", "resume=true", run_dir=run_dir)
    train = json.loads((run_dir / "metrics.json").read_text())["train"]
    assert train["resumed_from_step"] == 4
    assert train["global_step"] == 8


def test_resume_without_checkpoint_fails_clearly(train_tiny, tmp_path):
    with pytest.raises(ValueError, match="checkpoint"):
        train_tiny("resume=true", run_dir=tmp_path / "fresh")


def test_same_seed_gives_same_metrics(train_tiny, tmp_path):
    first = train_tiny("seed=7", run_dir=tmp_path / "a")
    second = train_tiny("seed=7", run_dir=tmp_path / "b")
    metrics = [json.loads((d / "metrics.json").read_text()) for d in (first, second)]
    assert metrics[0]["test"] == metrics[1]["test"]
    scores = [[p["scores"] for p in read_predictions(d / "predictions.jsonl")]
              for d in (first, second)]
    assert scores[0] == scores[1]


def test_best_checkpoint_survives_save_total_limit(train_tiny, tmp_path):
    run_dir = train_tiny("trainer.save_total_limit=1", "trainer.eval_steps=2",
                         "trainer.lr=5e-3", run_dir=tmp_path / "limited")
    train = json.loads((run_dir / "metrics.json").read_text())["train"]
    assert Path(train["best_checkpoint"]).is_dir()
    assert train["best_selection_macro_f1"] is not None


def test_evaluate_matches_metrics_computed_by_hand(train_tiny, tmp_path):
    run_dir = train_tiny("trainer.lr=3e-3")
    rows = make_rows(4, seed=11, prefix="held")
    data = write_jsonl(tmp_path / "held.jsonl", rows)
    metrics = evaluate_file(run_dir / "model", data, tmp_path / "eval")
    predictions = read_predictions(tmp_path / "eval" / "predictions.jsonl")
    gold = [p["label"] for p in predictions]
    guess = [p["predicted"] for p in predictions]
    assert metrics["n"] == len(rows) == len(predictions)
    assert metrics["accuracy"] == pytest.approx(np.mean([g == p for g, p in zip(gold, guess)]))
    f1s = []
    for i, label in enumerate(LABELS):
        tp = sum(g == p == label for g, p in zip(gold, guess))
        fp = sum(p == label != g for g, p in zip(gold, guess))
        fn = sum(g == label != p for g, p in zip(gold, guess))
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        f1s.append(f1)
        assert metrics["per_class"][label]["precision"] == pytest.approx(precision)
        assert metrics["per_class"][label]["recall"] == pytest.approx(recall)
        assert metrics["per_class"][label]["f1"] == pytest.approx(f1)
        assert metrics["per_class"][label]["support"] == gold.count(label)
        for j, other in enumerate(LABELS):
            count = sum(g == label and p == other for g, p in zip(gold, guess))
            assert metrics["confusion_matrix"][i][j] == count
    assert metrics["macro_f1"] == pytest.approx(np.mean(f1s))
    on_disk = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert on_disk["macro_f1"] == pytest.approx(metrics["macro_f1"])
    for p in predictions:
        assert set(p["scores"]) == set(LABELS)
        assert sum(p["scores"].values()) == pytest.approx(1.0, abs=1e-6)
    record = json.loads((run_dir / "run.json").read_text())
    assert record["metrics"]["held"]["n"] == len(rows), "evaluation is added to the run record"
    assert "test" in record["metrics"], "earlier metrics are kept"


def test_evaluate_one_split_of_a_corpus(train_tiny, corpus, tmp_path):
    run_dir = train_tiny()
    metrics = evaluate_file(run_dir / "model", corpus, tmp_path / "eval", split="test")
    assert metrics["n"] == sum(r["split"] == "test" for r in read_jsonl(corpus))
    assert "corpus_test" in json.loads((run_dir / "run.json").read_text())["metrics"]
    with pytest.raises(DataError, match="split='dev'"):
        evaluate_file(run_dir / "model", corpus, tmp_path / "eval2", split="dev")


def test_evaluate_never_overwrites_a_run(train_tiny, corpus, tmp_path):
    run_dir = train_tiny()
    with pytest.raises(ValueError, match="already has metrics named 'test'"):
        evaluate_file(run_dir / "model", corpus, tmp_path / "e", name="test")
    with pytest.raises(ValueError, match="is the model's run directory"):
        evaluate_file(run_dir / "model", corpus, run_dir)


def test_export_replaces_only_an_earlier_model(train_tiny, tmp_path):
    export = tmp_path / "exported"
    train_tiny(f"export_dir={export}", run_dir=tmp_path / "r1")
    assert (export / "stancewatch.json").is_file()
    train_tiny(f"export_dir={export}", run_dir=tmp_path / "r2")
    assert json.loads((export / "stancewatch.json").read_text())["kind"] == "transformer"
    precious = tmp_path / "precious"
    (precious / "keep.txt").parent.mkdir()
    (precious / "keep.txt").write_text("x")
    with pytest.raises(FileExistsError, match="holds no stancewatch model"):
        train_tiny(f"export_dir={precious}", run_dir=tmp_path / "r3")
    assert (precious / "keep.txt").is_file()


def test_bad_label_names_its_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"text": "Fine.", "label": "neutral"}\n\n'
                    '{"text": "Oops.", "label": "angry"}\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"bad\.jsonl:3: label 'angry'"):
        read_jsonl(path)


def test_evaluate_script_reports_bad_line_and_fails(train_tiny, tmp_path):
    run_dir = train_tiny()
    path = tmp_path / "bad.jsonl"
    path.write_text('{"text": "Fine.", "label": "neutral"}\n{"text": "", "label": "neutral"}\n',
                    encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "evaluate.py"), f"model_dir={run_dir / 'model'}",
         f"data.path={path}", f"output_dir={tmp_path / 'out'}"],
        capture_output=True, text=True, timeout=300)
    assert done.returncode != 0
    assert "bad.jsonl:2: 'text' must be a non-empty string" in done.stderr


def test_context_is_previous_sentence_of_same_article():
    rows = [
        {"text": "B1", "label": "neutral", "article_id": "b", "position": 1},
        {"text": "A0", "label": "neutral", "article_id": "a", "position": 0},
        {"text": "B0", "label": "neutral", "article_id": "b", "position": 0},
        {"text": "A1", "label": "neutral", "article_id": "a", "position": 1},
        {"text": "A3", "label": "neutral", "article_id": "a", "position": 3},
        {"text": "X", "label": "neutral"},
        {"text": "Y", "label": "neutral", "article_id": "c", "position": 1, "context": "given"},
    ]
    context = {r["text"]: r["context"] for r in add_previous_context(rows)}
    assert context == {"B1": "B0", "A0": None, "B0": None, "A1": "A0", "A3": None, "X": None,
                       "Y": "given"}


def test_bad_utf8_and_repeated_ids_name_their_line(tmp_path):
    path = tmp_path / "raw.jsonl"
    path.write_bytes(b'{"text": "ok", "label": "neutral"}\n'
                     b'{"text": "caf\xe9", "label": "neutral"}\n')
    with pytest.raises(DataError, match=r"raw\.jsonl:2: not valid UTF-8"):
        read_jsonl(path)
    path.write_text('{"id": "a", "text": "one", "label": "neutral"}\n'
                    '{"id": "a", "text": "two", "label": "hostile"}\n', encoding="utf-8")
    with pytest.raises(DataError, match=r"raw\.jsonl:2: id 'a' appears twice"):
        read_jsonl(path)


def test_real_label_file_errors_name_their_line(tmp_path):
    path = tmp_path / "labels.jsonl"
    for content, message in [
        ('{"id": "ungdc:AAA:0-4", "label": "neutral"}\n[1]\n',
         "labels.jsonl:2: expected a JSON object"),
        ('{"id": "ungdc:AAA:0-4", "label": "calm"}\n', "labels.jsonl:1: label 'calm'"),
        ('{"label": "neutral"}\n', "labels.jsonl:1: needs a string 'id'"),
        ('{"id": "x", "label": "neutral"}\n{"id": "x", "label": "hostile"}\n',
         "labels.jsonl:2: id 'x'"),
    ]:
        path.write_text(content, encoding="utf-8")
        with pytest.raises(DataError, match=re.escape(message)):
            read_jsonl_labels(path)


def test_real_text_is_sliced_by_offsets_and_missing_ids_fail(tmp_path):
    speeches = tmp_path / "speeches"
    speeches.mkdir()
    (speeches / "AAA_speech.txt").write_text("We meet again. They attacked our port.",
                                             encoding="utf-8")
    labels = write_jsonl(tmp_path / "real.jsonl", [
        {"id": "ungdc:AAA:15-38", "label": "hostile", "split": "dev"}])
    (row,) = load_real([labels], {"ungdc": speeches})
    assert row["text"] == "They attacked our port."
    assert row["context"] == "We meet again."
    assert row["article_id"] == "ungdc:AAA" and row["position"] == 1
    assert row["source"] == "ungdc"
    write_jsonl(labels, [{"id": "ungdc:AAA:15-38", "label": "hostile", "split": "dev"},
                         {"id": "ungdc:BBB:0-5", "label": "neutral", "split": "dev"}])
    with pytest.raises(DataError, match="1 ungdc ids not found in the text at .*, "
                                        "e.g. ungdc:BBB:0-5"):
        load_real([labels], {"ungdc": speeches})


def test_context_mode_is_recorded_and_used(train_tiny):
    run_dir = train_tiny("data.context=previous")
    classifier = StanceClassifier.load(run_dir / "model", device="cpu")
    assert classifier.context == "previous"
    text = "Norland will respond unless the convoy stops."
    alone = classifier.predict_proba([text], [None])
    with_context = classifier.predict_proba([text], ["Officials accused Sudria of shelling."])
    assert not np.allclose(alone, with_context), "the context segment reaches the model"


def test_class_weights_switch_changes_training(train_tiny, tmp_path):
    rows = [r for r in make_rows(20) if r["label"] != "conditional" or r["position"] < 3]
    skewed = f"data.corpus={write_jsonl(tmp_path / 'skewed.jsonl', rows)}"
    weighted = train_tiny(skewed, run_dir=tmp_path / "w")
    plain = train_tiny(skewed, "model.class_weights=false", run_dir=tmp_path / "p")
    loss = [(d / "log_history.csv").read_text().splitlines()[1] for d in (weighted, plain)]
    assert loss[0] != loss[1]


@pytest.mark.parametrize("model", ["tfidf_logreg", "keyword_rules"])
def test_baselines_write_the_same_outputs(train_tiny, model):
    run_dir = train_tiny(f"model={model}")
    for name in RUN_OUTPUTS:
        if name.startswith("model/") and name != "model/stancewatch.json":
            continue
        if name == "log_history.csv":
            continue
        assert (run_dir / name).is_file(), name
    classifier = StanceClassifier.load(run_dir / "model")
    assert classifier.meta["kind"] == model
    result = classifier.predict(["If Norland sends the convoy, relations will be ruined."])
    assert set(result[0]) == {"label", "score"}
    if model == "keyword_rules":
        assert result[0]["label"] == "conditional"


def test_tfidf_learns_the_toy_task(train_tiny):
    run_dir = train_tiny("model=tfidf_logreg")
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["test"]["macro_f1"] > 0.9


def test_keyword_rules_follow_their_lexicon():
    from stancewatch.baselines import KeywordRules

    logits = KeywordRules().logits([
        "If the shipments continue, we will respond.",
        "Officials condemned the drills.",
        "The talks will resume on Monday.",
    ])
    assert [LABELS[i] for i in logits.argmax(1)] == ["conditional", "hostile", "neutral"]


def test_corpus_without_a_split_is_an_error(tmp_path):
    rows = [r for r in make_rows(10) if r["split"] != "validation"]
    with pytest.raises(DataError, match="split='validation'"):
        StanceData(corpus=str(write_jsonl(tmp_path / "c.jsonl", rows)))


def test_missing_real_sources_are_skipped_with_a_warning(tmp_path, caplog):
    labels = write_jsonl(tmp_path / "real.jsonl",
                         [{"id": "ungdc:AAA:0-10", "label": "neutral", "split": "dev"}])
    data = StanceData(corpus=str(write_jsonl(tmp_path / "c.jsonl", make_rows(10))),
                      real_labels=[str(labels)], ungdc_dir=str(tmp_path / "absent"),
                      unscon_path=str(tmp_path / "absent.csv"),
                      train_on=["authored", "ungdc", "unscon", "news"],
                      select_on=["news_dev", "speech_dev"])
    assert "speech_dev" not in data.splits
    assert data.selection_sets == ["validation"]
    assert data.train_sources == {"authored": len(data.splits["train"])}
    assert "not found" in caplog.text
