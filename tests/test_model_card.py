"""Model cards written from the run's records: checked against run.json, for a run's
model, its export and a later evaluation; the folder loads in transformers' pipeline."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import yaml
from conftest import ROOT

from stancewatch import LABELS, StanceClassifier
from stancewatch.calibration import softmax_with_temperature
from stancewatch.evaluation import evaluate_file
from stancewatch.model_card import CARD_FILE, known_weaknesses, write_model_card
from stancewatch.records import META_FILE, read_record

SENTENCES = ["Norland threatened to destroy the dam within days.",
             "The talks on the port will resume in Geneva on Monday.",
             "If Ostmark sends the convoy, relations will be ruined."]
WEAKNESS = "- Invented weakness for the test: the corpus talks only about dams."
DATA_CARD = f"""# Data card

## Known weaknesses

{WEAKNESS}
- A second one.

## Next section

Not a weakness.
"""


def read_card(path: Path) -> tuple[dict, str]:
    text = path.read_text(encoding="utf-8")
    assert text.startswith("---\n")
    front, body = text[4:].split("\n---\n", 1)
    return yaml.safe_load(front), body


def section(body: str, heading: str) -> str:
    return body.split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]


@pytest.fixture()
def card_run(train_tiny, tmp_path) -> Path:
    data_card = tmp_path / "DATA_CARD.md"
    data_card.write_text(DATA_CARD, encoding="utf-8")
    return train_tiny(f"data_card={data_card}", f"export_dir={tmp_path / 'exported'}")


def test_card_matches_the_run_record(card_run, tmp_path):
    record = read_record(card_run)
    meta = json.loads((card_run / "model" / META_FILE).read_text())
    front, body = read_card(card_run / "model" / CARD_FILE)
    assert front["pipeline_tag"] == "text-classification"
    assert front["library_name"] == "transformers"
    assert front["license"] == "apache-2.0" and front["language"] == ["en"]
    assert "base_model" not in front, "a local random backbone has no hub id"
    (index,) = front["model-index"]
    assert index["name"] == f"stancewatch-{record['name']}"
    assert [r["dataset"]["type"] for r in index["results"]] == list(record["metrics"])
    assert set(record["metrics"]) == {"test", "validation"}
    for result in index["results"]:
        metrics = record["metrics"][result["dataset"]["type"]]
        values = {m["name"]: m["value"] for m in result["metrics"]}
        assert values["Macro F1"] == round(metrics["macro_f1"], 4)
        assert values["Accuracy"] == round(metrics["accuracy"], 4)
        assert values["Expected calibration error (10 bins)"] == round(metrics["ece"], 4)
        for label in LABELS:
            assert values[f"F1 ({label})"] == round(metrics["per_class"][label]["f1"], 4)
    evaluation = section(body, "Evaluation")
    for name, metrics in record["metrics"].items():
        line = next(x for x in evaluation.splitlines() if f"(`{name}`) |" in x)
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert cells[1:] == [str(metrics["n"]), f"{metrics['accuracy']:.3f}",
                             f"{metrics['macro_f1']:.3f}",
                             *(f"{metrics['per_class'][label]['f1']:.3f}" for label in LABELS),
                             f"{metrics['ece']:.3f}"]
    model = section(body, "Model")
    assert f"| calibration temperature | {meta['temperature']:.4f} (" in model
    assert f"| max length | {meta['max_length']} tokens |" in model
    data = section(body, "Training data")
    assert record["train"]["sources"] == {"authored": record["train"]["n"]}
    assert f"(`authored`) | {record['train']['n']:,} |" in data
    assert f"`{meta['train_data_hash']}`" in data
    training = section(body, "Training procedure")
    assert f"| learning rate | {record['config']['trainer.lr']} |" in training
    assert f"| optimisation steps | {record['train']['global_step']} |" in training
    limitations = section(body, "Limitations")
    assert WEAKNESS in limitations and "- A second one." in limitations
    assert "Not a weakness" not in body
    for label in LABELS:
        assert f"| `{label}` |" in section(body, "Labels")
    fitted = " + ".join(f"`{name}`" for name in record["calibration"]["fitted_on"])
    assert f"calibrated on {fitted} (" in section(body, "Intended use")
    use = section(body, "How to use")
    shown = (card_run / "model").relative_to(tmp_path).as_posix()  # paths.root_dir=tmp_path
    assert f'StanceClassifier.load("{shown}")' in use
    assert f'pipeline("text-classification", model="{shown}")' in use


def test_export_gets_its_own_card(card_run, tmp_path):
    exported = tmp_path / "exported"
    run_card = (card_run / "model" / CARD_FILE).read_text(encoding="utf-8")
    export_card = (exported / CARD_FILE).read_text(encoding="utf-8")
    shown = {d: d.relative_to(tmp_path).as_posix() for d in (card_run / "model", exported)}
    assert export_card == run_card.replace(shown[card_run / "model"], shown[exported])
    assert f'StanceClassifier.load("{shown[exported]}")' in export_card


def test_sources_and_base_model_come_from_the_model_metadata(card_run):
    model_dir = card_run / "model"
    meta_path = model_dir / META_FILE
    meta = json.loads(meta_path.read_text())
    sources = {"authored": 5566, "ungdc": 854, "teacher": 40000}
    meta_path.write_text(json.dumps({**meta, "train_sources": sources, "backbone": "minilm"}))
    front, body = read_card(write_model_card(model_dir))
    assert front["base_model"] == "sentence-transformers/all-MiniLM-L6-v2"
    data = section(body, "Training data")
    for name, count in sources.items():
        assert f"(`{name}`) | {count:,} |" in data
    assert f"| **total** | **{sum(sources.values()):,}** |" in data
    assert "did not record" not in data


def test_later_evaluation_joins_the_card(card_run, tmp_path, corpus):
    metrics = evaluate_file(card_run / "model", corpus, tmp_path / "eval", device="cpu",
                            name="news_dev")
    front, body = read_card(card_run / "model" / CARD_FILE)
    datasets = [r["dataset"]["type"] for r in front["model-index"][0]["results"]]
    assert datasets == list(read_record(card_run)["metrics"]) and datasets[-1] == "news_dev"
    evaluation = section(body, "Evaluation")
    assert f"| Real news dev set (`news_dev`) | {metrics['n']} |" in evaluation
    assert f"evaluated later from `{corpus}`" in evaluation


def test_without_data_card_or_record_the_card_says_so(tiny_model, tmp_path):
    folder = tmp_path / "copied"
    # other tests may have cached an ONNX export in the shared model folder
    shutil.copytree(tiny_model, folder, ignore=shutil.ignore_patterns("onnx"))
    _, body = read_card(write_model_card(folder))
    meta = json.loads((folder / META_FILE).read_text())
    # the model's own stancewatch.json still tells what it was trained on
    assert f"(`authored`) | {meta['train_sources']['authored']:,} |" in section(body,
                                                                          "Training data")
    assert "No evaluation results were recorded" in body
    assert "was not found when this card was written" in section(body, "Limitations")


def test_known_weaknesses_of_the_project_data_card():
    text = known_weaknesses(ROOT / "data" / "DATA_CARD.md")
    assert text and text.startswith("- ") and "\n## " not in text
    assert known_weaknesses(ROOT / "no such card.md") is None


def test_pipeline_loads_the_model_folder_as_is(tiny_model):
    from transformers import pipeline

    classifier = StanceClassifier.load(tiny_model, device="cpu")
    piped = pipeline("text-classification", model=str(tiny_model), device="cpu")
    got = piped(SENTENCES, top_k=None)
    logits = classifier.model.logits(SENTENCES)
    raw = softmax_with_temperature(logits, 1.0)
    for scores, expected in zip(got, raw, strict=True):
        by_label = {s["label"]: s["score"] for s in scores}
        np.testing.assert_allclose([by_label[label] for label in LABELS], expected, atol=1e-5)
    calibrated = classifier.predict(SENTENCES)
    assert [s[0]["label"] for s in got] == [c["label"] for c in calibrated], \
        "the temperature changes the scores, not the top label"


def test_context_model_card_shows_the_pipeline_pair_call(train_tiny):
    from transformers import pipeline

    model_dir = train_tiny("data.context=previous") / "model"
    _, body = read_card(model_dir / CARD_FILE)
    use = section(body, "How to use")
    assert '"text_pair": "<previous sentence>"' in use
    assert "pairs each sentence with the previous one" in use
    piped = pipeline("text-classification", model=str(model_dir), device="cpu")
    got = piped({"text": SENTENCES[2], "text_pair": SENTENCES[1]}, top_k=None)
    classifier = StanceClassifier.load(model_dir, device="cpu")
    logits = classifier.model.logits([SENTENCES[2]], [SENTENCES[1]])
    by_label = {s["label"]: s["score"] for s in got}
    np.testing.assert_allclose([by_label[label] for label in LABELS],
                               softmax_with_temperature(logits, 1.0)[0], atol=1e-5)
