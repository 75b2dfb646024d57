"""Inference runtimes on the tiny BERT: length-sorted batches, the ONNX export and its
cache, and each ONNX backend against float32 PyTorch."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import ROOT, make_rows

from stancewatch import StanceClassifier
from stancewatch.baselines import KeywordRules
from stancewatch.runtime import batching, resolve_backend
from stancewatch.runtime.onnx import FILES, export_onnx, file_digest, weights_digest

# Sentences of many lengths, in no particular order.
TEXTS = [r["text"] for r in make_rows(6, seed=3)] + [
    "Talks.", " ".join(r["text"] for r in make_rows(1, seed=4)), "Norland said so."]


@pytest.fixture()
def model_dir(tiny_model, tmp_path) -> Path:
    """A copy of the tiny model, so that its ONNX export is this test's own."""
    target = tmp_path / "model"
    shutil.copytree(tiny_model, target, ignore=shutil.ignore_patterns("onnx"))
    meta = json.loads((target / "stancewatch.json").read_text())
    meta.pop("onnx", None)
    (target / "stancewatch.json").write_text(json.dumps(meta))
    return target


def test_predict_proba_sorts_by_length_and_keeps_input_order(tiny_model, monkeypatch):
    classifier = StanceClassifier.load(tiny_model, device="cpu", backend="torch")
    widths = []
    sorted_batches = batching.sorted_batches

    def spy(*args, **kwargs):
        for positions, arrays in sorted_batches(*args, **kwargs):
            widths.append(arrays["input_ids"].shape[1])
            yield positions, arrays

    monkeypatch.setattr(batching, "sorted_batches", spy)
    together = classifier.predict_proba(TEXTS, batch_size=4)
    assert len(widths) == -(-len(TEXTS) // 4)
    assert widths == sorted(widths) and widths[0] < widths[-1]
    alone = np.vstack([classifier.predict_proba([text]) for text in TEXTS])
    np.testing.assert_allclose(together, alone, atol=1e-5)
    assert [r["label"] for r in classifier.predict(TEXTS, batch_size=4)] == [
        r["label"] for r in classifier.predict(TEXTS, batch_size=64)]


def test_onnx_export_is_cached_recorded_and_redone_for_new_weights(model_dir):
    done = subprocess.run([sys.executable, str(ROOT / "scripts" / "export_onnx.py"),
                           f"model_dir={model_dir}"], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert str(model_dir / "onnx" / "model_int8.onnx") in done.stdout
    meta = json.loads((model_dir / "stancewatch.json").read_text())
    record = meta["onnx"]
    assert record["weights_sha256"] == weights_digest(model_dir)
    files = [model_dir / name for name in FILES.values()]
    stamps = [f.stat().st_mtime_ns for f in files]
    assert export_onnx(model_dir) == record
    assert [f.stat().st_mtime_ns for f in files] == stamps, "a current export is reused"
    assert meta["kind"] == "transformer" and meta["temperature"] > 0, "the rest of the meta stays"
    # An ONNX file changed since its export (a copy gone wrong, a file put there by someone
    # else) is not run: it is exported again from the weights.
    int8 = model_dir / FILES["onnx_int8"]
    int8.write_bytes(int8.read_bytes() + b"\0")
    tampered = (file_digest(int8), int8.stat().st_mtime_ns)
    again = export_onnx(model_dir)
    assert (file_digest(int8), int8.stat().st_mtime_ns) != tampered, "exported again"
    assert again["sha256"]["onnx_int8"] == file_digest(int8)
    record = json.loads((model_dir / "stancewatch.json").read_text())["onnx"]

    classifier = StanceClassifier.load(model_dir, device="cpu", backend="torch")
    with torch.no_grad():
        classifier.model.model.classifier.bias.add_(1.0)
    classifier.model.model.save_pretrained(model_dir)
    redone = export_onnx(model_dir)
    assert redone["weights_sha256"] != record["weights_sha256"]
    onnx = StanceClassifier.load(model_dir, device="cpu", backend="onnx")
    np.testing.assert_allclose(onnx.predict_proba(TEXTS), classifier.predict_proba(TEXTS),
                               atol=1e-5)


def test_onnx_backends_agree_with_float32_torch(model_dir):
    reference = StanceClassifier.load(model_dir, device="cpu", backend="torch")
    expected = reference.predict_proba(TEXTS)
    onnx = StanceClassifier.load(model_dir, device="cpu", backend="onnx")
    assert onnx.backend == "onnx"
    np.testing.assert_allclose(onnx.predict_proba(TEXTS), expected, atol=1e-5)

    int8 = StanceClassifier.load(model_dir, device="cpu", backend="onnx_int8")
    int8.model.rescore_margin = 0
    alone = int8.predict_proba(TEXTS)
    np.testing.assert_allclose(alone, expected, atol=1e-3)
    assert (alone.argmax(1) == expected.argmax(1)).mean() >= 0.99
    assert np.abs(alone - expected).max() > 1e-7, "int8 arithmetic, not the float32 network"

    # Close calls go to the float32 network: here, the closer half.
    top_two = np.sort(alone, axis=1)[:, -2:]
    margin = top_two[:, 1] - top_two[:, 0]
    int8.model.rescore_margin = float(np.median(margin))
    close = margin < int8.model.rescore_margin
    assert 0 < close.sum() < len(TEXTS)
    mixed = int8.predict_proba(TEXTS)
    np.testing.assert_allclose(mixed[close], onnx.predict_proba(TEXTS)[close], atol=1e-6)
    np.testing.assert_array_equal(mixed[~close], alone[~close])


def test_backend_choice_is_checked(model_dir, tmp_path):
    assert resolve_backend("auto", "transformer", "cpu") == "onnx_int8"
    assert resolve_backend("auto", "transformer", "cuda") == "torch"
    assert resolve_backend("auto", "keyword_rules", "cpu") == "native"
    with pytest.raises(ValueError, match="backend must be"):
        StanceClassifier.load(model_dir, device="cpu", backend="tensorrt")
    with pytest.raises(ValueError, match="runs on CPU"):
        resolve_backend("onnx", "transformer", "cuda")
    rules = StanceClassifier(KeywordRules(), {"kind": KeywordRules.kind})
    rules.save(tmp_path / "rules")
    with pytest.raises(ValueError, match="applies to transformer models"):
        StanceClassifier.load(tmp_path / "rules", backend="onnx")
    with pytest.raises(ValueError, match="no ONNX export"):
        export_onnx(tmp_path / "rules")
    assert StanceClassifier.load(tmp_path / "rules").backend == "native"
    int8 = StanceClassifier.load(model_dir, device="cpu")
    assert int8.backend == "onnx_int8"
    with pytest.raises(ValueError, match="cannot be saved"):
        int8.save(tmp_path / "copy")
