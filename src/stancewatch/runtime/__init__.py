"""Inference runtimes for transformer models, chosen with ``backend=``.

- ``torch``: the saved PyTorch model, float32 (CPU or CUDA);
- ``onnx``: the same network exported to ONNX, run by ONNX Runtime, float32;
- ``onnx_int8``: that export with its weights quantised to int8 (dynamic quantisation).

``auto`` picks ``onnx_int8`` on CPU when onnxruntime is installed (fastest at the same
labels, see BENCHMARKS.md) and ``torch`` otherwise (on CUDA, or without the extra).
Other model kinds (TF-IDF, keyword rules) have one runtime of their own: they take
``auto`` only.
"""

from __future__ import annotations

import importlib.util
import logging

log = logging.getLogger(__name__)

BACKENDS = ("torch", "onnx", "onnx_int8")
ONNX_BACKENDS = ("onnx", "onnx_int8")


def onnxruntime_available() -> bool:
    return importlib.util.find_spec("onnxruntime") is not None


def _uses_cuda(device: str) -> bool:
    if device == "auto":
        import torch

        return torch.cuda.is_available()
    return device.startswith("cuda")


def resolve_backend(backend: str, kind: str, device: str) -> str:
    """The runtime that ``backend`` means for a model of ``kind`` on ``device``:
    one of :data:`BACKENDS`, or ``"native"`` for models that are not transformers (and
    resolving a resolved name gives it back)."""
    if backend not in ("auto", "native", *BACKENDS):
        raise ValueError(f"backend must be auto or one of {', '.join(BACKENDS)}, got {backend!r}")
    if kind != "transformer":
        if backend not in ("auto", "native"):
            raise ValueError(f"backend={backend} applies to transformer models; a {kind} "
                             "model runs as it is (use backend=auto)")
        return "native"
    if backend == "auto":
        if _uses_cuda(device):
            return "torch"
        if not onnxruntime_available():
            log.info("onnxruntime is not installed: scoring with PyTorch (pip install "
                     "'stancewatch[onnx]' for the faster int8 runtime)")
            return "torch"
        return "onnx_int8"
    if backend in ONNX_BACKENDS:
        if not onnxruntime_available():
            raise ImportError(f"backend={backend} needs onnxruntime: "
                              "pip install 'stancewatch[onnx]'")
        if device.startswith("cuda"):
            raise ValueError(f"backend={backend} runs on CPU; on a GPU use backend=torch")
    return backend
