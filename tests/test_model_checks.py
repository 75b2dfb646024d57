"""Model folders from someone else: a pickle anywhere is refused without being unpickled,
stancewatch.json is checked field by field, and config, tokenizer and weights that do not
belong together fail with a message naming the file, not a stack trace."""

from __future__ import annotations

import json
import pathlib
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

from stancewatch import StanceClassifier
from stancewatch.model_checks import ModelError


class _Trap:
    """Unpickling this creates ``marker``: what a malicious pickle could do, harmlessly."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return pathlib.Path.touch, (pathlib.Path(self.marker),)


def _copy(tiny_model: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "model"
    shutil.copytree(tiny_model, folder)
    return folder


@pytest.mark.parametrize("name", ["pytorch_model.bin", "onnx/extra.safetensors.index",
                                  "weights.dat"])
def test_a_pickle_in_the_folder_is_refused_unopened(tiny_model, tmp_path, name):
    # The trap works: unpickling a copy of it creates its marker.
    proof = tmp_path / "proof"
    pickle.loads(pickle.dumps(_Trap(proof)))
    assert proof.exists()

    folder = _copy(tiny_model, tmp_path)
    marker = tmp_path / "pwned"
    (folder / name).parent.mkdir(exist_ok=True)
    (folder / name).write_bytes(pickle.dumps(_Trap(marker), protocol=4))
    with pytest.raises(ModelError, match=rf"holds {name}: a pickle, which can run code"):
        StanceClassifier.load(folder, device="cpu", backend="torch")
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "score.py"), f"input={ROOT / 'examples'}",
         f"output_dir={tmp_path / 'out'}", f"model_dir={folder}", "device=cpu"],
        capture_output=True, text=True, timeout=300)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines()[-1].startswith(f"error: {folder}: holds {name}")
    assert "Traceback" not in done.stderr
    assert not marker.exists(), "the pickle was unpickled"
    assert not (tmp_path / "out" / "articles.jsonl").exists(), "refused before scoring"


def _meta_with(folder: Path, **changes) -> None:
    path = folder / "stancewatch.json"
    meta = json.loads(path.read_text(encoding="utf-8"))
    meta.update(changes)
    path.write_text(json.dumps(meta), encoding="utf-8")


@pytest.mark.parametrize(("field", "value", "wanted"), [
    ("labels", ["neutral", "hostile", "conditional"], "exactly ['hostile', 'conditional', "
                                                      "'neutral'], in this order"),
    ("labels", ["hostile", "conditional"], "exactly"),
    ("kind", "pickled_sklearn", "one of transformer, tfidf_logreg, keyword_rules"),
    ("context", "whole_article", "one of "),
    ("temperature", -1.0, "a number from 0.01 to 100.0"),
    ("temperature", "hot", "a number from"),
    ("max_length", 0, "a whole number from 8 to 4096"),
    ("max_length", 1e9, "a whole number from"),
])
def test_stancewatch_json_errors_name_the_field(tiny_model, tmp_path, field, value, wanted):
    folder = _copy(tiny_model, tmp_path)
    _meta_with(folder, **{field: value})
    with pytest.raises(ModelError) as caught:
        StanceClassifier.load(folder, device="cpu", backend="torch")
    assert str(caught.value).startswith(f"{folder / 'stancewatch.json'}: field {field!r} must "
                                        f"be {wanted}")
    assert f"got {value!r}" in str(caught.value)


def test_a_missing_field_and_broken_json_are_named(tiny_model, tmp_path):
    folder = _copy(tiny_model, tmp_path)
    meta = json.loads((folder / "stancewatch.json").read_text(encoding="utf-8"))
    del meta["temperature"]
    (folder / "stancewatch.json").write_text(json.dumps(meta), encoding="utf-8")
    with pytest.raises(ModelError, match=r"field 'temperature' must be .* \(missing\)"):
        StanceClassifier.load(folder, device="cpu", backend="torch")
    (folder / "stancewatch.json").write_text('{"kind": "transformer",', encoding="utf-8")
    with pytest.raises(ModelError, match=r"stancewatch.json: not valid JSON"):
        StanceClassifier.load(folder, device="cpu", backend="torch")


def _config_with(folder: Path, **changes) -> None:
    path = folder / "config.json"
    config = json.loads(path.read_text(encoding="utf-8"))
    config.update(changes)
    path.write_text(json.dumps(config), encoding="utf-8")


def test_a_config_that_does_not_match_the_weights(tiny_model, tmp_path):
    folder = _copy(tiny_model, tmp_path)
    _config_with(folder, hidden_size=64, intermediate_size=128)
    with pytest.raises(ModelError) as caught:
        StanceClassifier.load(folder, device="cpu", backend="torch")
    message = str(caught.value)
    assert message.startswith(f"{folder / 'model.safetensors'}: ")
    assert "config.json" in message and len(message.splitlines()) == 1


@pytest.mark.parametrize(("config", "meta", "wanted"), [
    ({"num_hidden_layers": 3}, {},
     r"model.safetensors: does not match config.json \(missing keys: bert\.encoder\.layer\.2\."),
    ({"id2label": {"0": "neutral", "1": "hostile", "2": "conditional"}}, {},
     r"config.json: its labels \['neutral', 'hostile', 'conditional'\] are not those of "
     r"stancewatch.json"),
    ({}, {"max_length": 512},
     r"field 'max_length' is 512, more than the 256 positions of the model"),
])
def test_config_weights_and_meta_must_agree(tiny_model, tmp_path, config, meta, wanted):
    folder = _copy(tiny_model, tmp_path)
    _config_with(folder, **config)
    _meta_with(folder, **meta)
    with pytest.raises(ModelError, match=wanted):
        StanceClassifier.load(folder, device="cpu", backend="torch")


def test_a_tokenizer_that_is_not_the_models(tiny_model, tmp_path):
    folder = _copy(tiny_model, tmp_path)
    tokenizer = json.loads((folder / "tokenizer.json").read_text(encoding="utf-8"))
    vocab = tokenizer["model"]["vocab"]
    vocab.update({f"extra{i}": len(vocab) + i for i in range(500)})
    (folder / "tokenizer.json").write_text(json.dumps(tokenizer), encoding="utf-8")
    with pytest.raises(ModelError, match=r"the tokenizer has \d+ tokens but the model's "
                                         r"embeddings .* the tokenizer is not this model's"):
        StanceClassifier.load(folder, device="cpu", backend="torch")
    (folder / "tokenizer.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(ModelError, match=r"the tokenizer cannot be loaded"):
        StanceClassifier.load(folder, device="cpu", backend="torch")


def test_weights_only_from_safetensors(tiny_model, tmp_path):
    folder = _copy(tiny_model, tmp_path)
    (folder / "model.safetensors").unlink()
    with pytest.raises(ModelError, match=r"no model.safetensors \(stancewatch loads "
                                         r"transformer weights from safetensors only\)"):
        StanceClassifier.load(folder, device="cpu", backend="torch")
    (folder / "model.safetensors").write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{broken}")
    with pytest.raises(ModelError, match=r"model.safetensors: cannot be loaded"):
        StanceClassifier.load(folder, device="cpu", backend="torch")
