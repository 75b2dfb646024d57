"""Checks on a model folder before anything in it is used.

A model folder may come from someone else, so nothing in it is trusted: weights load
from safetensors only, a folder holding a pickle (``pytorch_model.bin``, ``*.pt``, any
file that is a pickle whatever its name) is refused without being opened by anything
that could unpickle it, no code from the folder runs (``trust_remote_code`` is never
set), ``stancewatch.json`` is checked field by field, and config, tokenizer and weights
must agree. Each problem is a :class:`ModelError` naming the file (and field), rather
than a stack trace from inside transformers or a model that quietly scores nonsense.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path

from .data import CONTEXT_MODES
from .labels import LABELS

# File types that hold pickles (PyTorch, joblib, NumPy object arrays, plain pickle).
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle", ".joblib", ".dill",
                   ".npy", ".npz")
# Formats whose readers never unpickle, so their first bytes may look like anything.
_SAFE_SUFFIXES = (".safetensors", ".onnx")
# A pickle of protocol 2-5 starts with PROTO; torch.save writes a zip holding one.
_PICKLE_STARTS = (b"\x80\x02", b"\x80\x03", b"\x80\x04", b"\x80\x05", b"PK\x03\x04")
# max_length bounds for any encoder (and at most the model's position embeddings).
MAX_LENGTH_BOUNDS = (8, 4096)
# Calibration fits temperatures from 0.05 to 20; far outside, scores would mean nothing.
TEMPERATURE_BOUNDS = (0.01, 100.0)


class ModelError(ValueError):
    """A model folder that cannot be used: the message names the file and what is wrong."""


def _is_pickle(path: Path) -> bool:
    if path.suffix.lower() in PICKLE_SUFFIXES:
        return True
    if path.suffix.lower() in _SAFE_SUFFIXES:
        return False
    with path.open("rb") as handle:
        return handle.read(4).startswith(_PICKLE_STARTS)


def check_no_pickles(folder: Path) -> None:
    """Refuse a folder with a pickle anywhere in it: unpickling runs code, and nothing in
    stancewatch unpickles, so a pickle in a model folder is a converted model's leftover
    at best and a trap at worst."""
    found = sorted(p for p in folder.rglob("*") if p.is_file() and _is_pickle(p))
    if found:
        names = ", ".join(str(p.relative_to(folder)) for p in found[:5])
        raise ModelError(f"{folder}: holds {names}: a pickle, which can run code when loaded; "
                         "stancewatch loads weights from safetensors only. Remove it (convert "
                         "the weights to safetensors where you trust them) and try again")


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def check_meta(meta: object, where: Path, kinds: Iterable[str]) -> dict:
    """``stancewatch.json`` field by field; returns it. ``where`` names it in errors."""
    if not isinstance(meta, dict):
        raise ModelError(f"{where}: expected a JSON object, got {type(meta).__name__}")

    def bad(name: str, wanted: str) -> ModelError:
        got = "missing" if name not in meta else f"got {meta[name]!r}"
        return ModelError(f"{where}: field {name!r} must be {wanted} ({got})")

    kinds = tuple(kinds)
    if meta.get("kind") not in kinds:
        raise bad("kind", f"one of {', '.join(kinds)}")
    if meta.get("labels") != list(LABELS):
        raise bad("labels", f"exactly {list(LABELS)}, in this order")
    if meta.get("context") not in CONTEXT_MODES:
        raise bad("context", f"one of {', '.join(CONTEXT_MODES)}")
    low, high = TEMPERATURE_BOUNDS
    if not (_number(meta.get("temperature")) and low <= meta["temperature"] <= high):
        raise bad("temperature", f"a number from {low} to {high}")
    if meta["kind"] == "transformer":
        low, high = MAX_LENGTH_BOUNDS
        length = meta.get("max_length")
        if not (isinstance(length, int) and not isinstance(length, bool) and low <= length <= high):
            raise bad("max_length", f"a whole number from {low} to {high}")
    return meta


def _first_line(err: Exception) -> str:
    return (str(err).strip().splitlines() or [type(err).__name__])[0][:300]


def transformer_parts(path: Path, meta: dict):
    """The config and tokenizer of a transformer folder, checked against each other and
    against ``stancewatch.json``."""
    from transformers import AutoConfig, AutoTokenizer

    weights = path / "model.safetensors"
    if not weights.is_file():
        raise ModelError(f"{path}: no model.safetensors (stancewatch loads transformer weights "
                         "from safetensors only)")
    try:
        config = AutoConfig.from_pretrained(path, trust_remote_code=False)
    except Exception as err:  # transformers raises OSError, ValueError, KeyError, ...
        raise ModelError(f"{path / 'config.json'}: not a config transformers can read "
                         f"without running code from the folder ({_first_line(err)})") from None
    labels = [config.id2label.get(i) for i in range(config.num_labels)]
    if labels != list(LABELS):
        raise ModelError(f"{path / 'config.json'}: its labels {labels} are not those of "
                         f"stancewatch.json, {list(LABELS)} in this order")
    positions = getattr(config, "max_position_embeddings", None)
    if positions is not None and meta["max_length"] > positions:
        raise ModelError(f"{path / 'stancewatch.json'}: field 'max_length' is "
                         f"{meta['max_length']}, more than the {positions} positions of the "
                         "model (config.json)")
    try:
        tokenizer = AutoTokenizer.from_pretrained(path, trust_remote_code=False)
    except Exception as err:  # as above
        raise ModelError(f"{path}: the tokenizer cannot be loaded ({_first_line(err)})") from None
    if len(tokenizer) > config.vocab_size:
        raise ModelError(f"{path}: the tokenizer has {len(tokenizer)} tokens but the model's "
                         f"embeddings (config.json, vocab_size) only {config.vocab_size}: the "
                         "tokenizer is not this model's")
    return config, tokenizer


def load_weights(path: Path, config):
    """The sequence classifier in ``path``, from its safetensors weights, which must
    match ``config`` exactly (no weight missing, left over or of another shape)."""
    from transformers import AutoModelForSequenceClassification

    try:
        model, info = AutoModelForSequenceClassification.from_pretrained(
            path, config=config, use_safetensors=True, trust_remote_code=False,
            output_loading_info=True)
    except Exception as err:  # safetensors and torch raise several types
        raise ModelError(f"{path / 'model.safetensors'}: cannot be loaded as the model "
                         f"config.json describes ({_first_line(err)})") from None
    problems = {kind: sorted(map(str, info.get(kind) or ()))
                for kind in ("missing_keys", "unexpected_keys", "mismatched_keys")}
    if any(problems.values()):
        detail = "; ".join(f"{kind.replace('_', ' ')}: {', '.join(keys[:3])}"
                           + (f" and {len(keys) - 3} more" if len(keys) > 3 else "")
                           for kind, keys in problems.items() if keys)
        raise ModelError(f"{path / 'model.safetensors'}: does not match config.json ({detail})")
    return model
