"""stancewatch: label every sentence of a news article hostile, conditional or neutral."""

import os

# Weights come from local directories only; never reach for a model hub.
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from .labels import LABELS
from .segment import Sentence, split_sentences

__all__ = ["LABELS", "Sentence", "StanceClassifier", "split_sentences"]


def __getattr__(name: str):
    # StanceClassifier brings in torch and transformers (seconds to import): loaded on
    # first use, so that tools that only read run records start quickly
    if name == "StanceClassifier":
        from .inference import StanceClassifier

        return StanceClassifier
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
