"""stancewatch: label every sentence of a news article hostile, conditional or neutral."""

from .inference import StanceClassifier
from .labels import LABELS
from .segment import Sentence, split_sentences

__all__ = ["LABELS", "Sentence", "StanceClassifier", "split_sentences"]
