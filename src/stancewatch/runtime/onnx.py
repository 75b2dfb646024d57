"""ONNX export, once per model and cached in the model folder, and scoring with ONNX
Runtime on CPU.

The export is the float32 network (``onnx/model.onnx``) and a copy with int8 weights
from ONNX Runtime's dynamic quantisation (``onnx/model_int8.onnx``); ``stancewatch.json``
records them under ``onnx`` with the digest of the weights they came from, so a
retrained model is exported again instead of being scored with stale files, and the
digest of each ONNX file, so that a file changed since (a copy gone wrong, a file put
there by someone else) is not used but exported again.

int8 arithmetic moves probabilities by up to a few tenths on sentences the model is
unsure of, which flipped 1-2 % of labels on the authored test split and 2.3 % on the
real speech dev set (default model, BENCHMARKS.md). So ``onnx_int8`` rescores with the
float32 network every sentence whose two likeliest labels lie within
:data:`RESCORE_MARGIN` of each other (3-9 % of sentences on those sets): the labels then
agree with float32 on more than 99 %, at a small part of float32's cost.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np
from transformers import BatchEncoding

from ..calibration import softmax_with_temperature
from ..console import libraries_quiet
from ..labels import LABELS
from ..model_checks import load_weights, transformer_parts
from ..records import META_FILE, now
from .batching import TokenWindow, encode, run_sorted

log = logging.getLogger(__name__)

WEIGHTS_FILE = "model.safetensors"
FILES = {"onnx": "onnx/model.onnx", "onnx_int8": "onnx/model_int8.onnx"}
# 18 is the lowest opset torch's exporter writes without a version conversion.
OPSET = 18
# Calibrated probability gap between the two likeliest labels below which an int8 result
# is replaced by float32's: the smallest of 0.2-0.5 that kept label agreement with float32
# at 99.5 % or more on the test, validation and real dev sets of the default model.
RESCORE_MARGIN = 0.4
# Recorded with the export; an export made with other settings is made again.
QUANTIZATION = "dynamic: int8 weights per channel, uint8 activations per tensor"


def available_cpus() -> int:
    """The cores this process may run on (a container or a Ray actor may have fewer than
    the machine), which is what a thread pool should use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def file_digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def weights_digest(model_dir: Path) -> str:
    return file_digest(model_dir / WEIGHTS_FILE)


def _read_meta(model_dir: Path) -> dict:
    return json.loads((model_dir / META_FILE).read_text(encoding="utf-8"))


def _replace(path: Path, data: str) -> None:
    """Write ``path`` whole or not at all (another process may be reading it)."""
    handle, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    with os.fdopen(handle, "w", encoding="utf-8") as out:
        out.write(data)
    os.replace(tmp, path)


def cached_export(model_dir: Path) -> dict | None:
    """The ``onnx`` record of ``model_dir`` when it is current (this opset and
    quantisation, these weights) and its files are there, each as it was exported."""
    record = _read_meta(model_dir).get("onnx")
    if not isinstance(record, dict) or record.get("files") != FILES:
        return None
    current = (record.get("opset"), record.get("quantization")) == (OPSET, QUANTIZATION)
    if not current or record.get("weights_sha256") != weights_digest(model_dir):
        return None
    digests = record.get("sha256") or {}
    for backend, name in FILES.items():
        path = model_dir / name
        if not path.is_file():
            return None
        if digests.get(backend) != file_digest(path):
            log.warning("%s is not the file exported from these weights (its digest differs "
                        "from the one recorded in %s): exporting again", path, META_FILE)
            return None
    return record


def export_onnx(model_dir: str | Path, force: bool = False) -> dict:
    """Export the transformer in ``model_dir`` to ONNX (float32 and int8) unless a current
    export is there; returns the ``onnx`` record of ``stancewatch.json``."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    model_dir = Path(model_dir)
    meta = _read_meta(model_dir)
    if meta.get("kind") != "transformer":
        raise ValueError(f"{model_dir}: a {meta.get('kind')} model has no ONNX export; "
                         "only transformer models do")
    if not force and (record := cached_export(model_dir)) is not None:
        return record
    config, tokenizer = transformer_parts(model_dir, meta)
    model = load_weights(model_dir, config).eval()
    pair = meta.get("context") == "previous"
    sample = encode(tokenizer, ["A sentence to trace.", "Another, longer sentence to trace."],
                    ["Its context.", None] if pair else None, meta["max_length"])
    sample = dict(tokenizer.pad(sample, return_tensors="pt"))
    batch, sequence = torch.export.Dim("batch"), torch.export.Dim("sequence")
    try:
        (model_dir / "onnx").mkdir(exist_ok=True)
        work = Path(tempfile.mkdtemp(dir=model_dir / "onnx", prefix=".export-"))
    except OSError as err:
        raise OSError(f"cannot write the ONNX export into {model_dir / 'onnx'} ({err}): run "
                      "scripts/export_onnx.py as a user who can, or use backend=torch") from None
    try:
        # the exporter and the quantiser log advice for other model types (torch's own
        # logger; onnxruntime logs to the root logger)
        with libraries_quiet("torch", ""):
            torch.onnx.export(model, (), work / "model.onnx", kwargs=sample, dynamo=True,
                              input_names=list(sample), output_names=["logits"],
                              dynamic_shapes={key: {0: batch, 1: sequence} for key in sample},
                              opset_version=OPSET, external_data=False, verbose=False)
            # Per output channel: one scale per weight column cut label flips by half.
            quantize_dynamic(work / "model.onnx", work / "model_int8.onnx",
                             weight_type=QuantType.QInt8, per_channel=True)
        for name in FILES.values():
            os.replace(work / Path(name).name, model_dir / name)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    import onnxruntime

    record = {"files": dict(FILES), "weights_sha256": weights_digest(model_dir),
              "sha256": {backend: file_digest(model_dir / name) for backend, name in FILES.items()},
              "opset": OPSET, "quantization": QUANTIZATION,
              "torch": torch.__version__, "onnxruntime": onnxruntime.__version__,
              "exported": now()}
    meta = _read_meta(model_dir)
    meta["onnx"] = record
    _replace(model_dir / META_FILE, json.dumps(meta, indent=2))
    return record


def _session(path: Path, threads: int | None):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads or available_cpus()
    # One operator at a time: the parallelism that pays is inside each matrix product.
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    # Threads that spin while waiting for work starve the others when cores are shared
    # (other jobs, other Ray actors): 2 spinning threads scored at half the rate of 2 that
    # sleep on a busy 2-core machine.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


class OnnxTransformer:
    """A transformer model run by ONNX Runtime: the same inputs and logits as
    :class:`~stancewatch.modeling.TransformerModel`, scoring only.

    With a ``rescore`` session (float32, for an int8 ``session``), sentences whose two
    likeliest labels (at ``temperature``) are within ``rescore_margin`` are run again
    through it.
    """

    kind = "transformer"

    def __init__(self, session, tokenizer, max_length: int, rescore=None,
                 rescore_margin: float = RESCORE_MARGIN, temperature: float = 1.0) -> None:
        self.session = session
        self.tokenizer = tokenizer
        self.max_length = max_length
        self.rescore = rescore
        self.rescore_margin = rescore_margin
        self.temperature = temperature

    @classmethod
    def load(cls, path: Path, meta: dict, backend: str,
             threads: int | None = None) -> OnnxTransformer:
        _, tokenizer = transformer_parts(path, meta)
        export_onnx(path)
        session = _session(path / FILES[backend], threads)
        rescore = _session(path / FILES["onnx"], threads) if backend == "onnx_int8" else None
        return cls(session, tokenizer, meta["max_length"], rescore,
                   temperature=float(meta.get("temperature", 1.0)))

    @property
    def window(self) -> TokenWindow:
        return TokenWindow(self.tokenizer, self.max_length)

    def _run(self, session, encoded: BatchEncoding, batch_size: int) -> np.ndarray:
        names = {i.name for i in session.get_inputs()}

        def forward(arrays: dict[str, np.ndarray]) -> np.ndarray:
            return session.run(["logits"], {k: v for k, v in arrays.items() if k in names})[0]

        return run_sorted(self.tokenizer, encoded, batch_size, forward, len(LABELS))

    def logits(self, texts: list[str], contexts: list[str | None] | None = None,
               batch_size: int = 64) -> np.ndarray:
        if not texts:
            return np.zeros((0, len(LABELS)), dtype=np.float32)
        encoded = encode(self.tokenizer, texts, contexts, self.max_length)
        logits = self._run(self.session, encoded, batch_size)
        if self.rescore is None or self.rescore_margin <= 0:
            return logits
        top_two = np.sort(softmax_with_temperature(logits, self.temperature), axis=1)[:, -2:]
        close = np.flatnonzero(top_two[:, 1] - top_two[:, 0] < self.rescore_margin)
        if close.size:
            subset = BatchEncoding({key: [values[i] for i in close]
                                    for key, values in encoded.items()})
            logits[close] = self._run(self.rescore, subset, batch_size)
        return logits
