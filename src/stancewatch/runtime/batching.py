"""Tokenising, and length-sorted batches: every runtime tokenises once, runs sentences
of similar length together (a batch pads only to its longest member) and puts results
back in input order."""


from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from transformers import BatchEncoding, PreTrainedTokenizerBase

# A batch holds at most this many tokens, padding included: long sentences go in smaller
# batches, so activation memory stays bounded and CPU caches stay warm.
MAX_TOKENS = 1024


def encode(
    tokenizer: PreTrainedTokenizerBase,
    texts: list[str],
    contexts: list[str | None] | None,
    max_length: int,
) -> BatchEncoding:
    """Tokenise sentences, with the context as the second segment of a pair when given.

    ``longest_first`` trims whichever of the two is longer, token by token, so a long
    context gives way before a short sentence does.
    """
    if contexts is None:
        return tokenizer(texts, truncation=True, max_length=max_length)
    return tokenizer(
        texts,
        [c or "" for c in contexts],
        truncation="longest_first",
        max_length=max_length,
    )


@dataclass(frozen=True)
class TokenWindow:
    """How many tokens of a sentence a transformer reads (``budget``: its ``max_length``
    less the special tokens), and how to count them."""

    tokenizer: PreTrainedTokenizerBase
    max_length: int

    @property
    def budget(self) -> int:
        return self.max_length - self.tokenizer.num_special_tokens_to_add(pair=False)

    def count(self, texts: list[str]) -> list[int]:
        ids = self.tokenizer(texts, add_special_tokens=False)["input_ids"] if texts else []
        return [len(row) for row in ids]


def _spans(lengths: np.ndarray, batch_size: int, max_tokens: int) -> Iterator[tuple[int, int]]:
    """``[start, end)`` of each batch over lengths sorted ascending."""
    start = 0
    while start < len(lengths):
        end = start + 1
        while (end < len(lengths) and end - start < batch_size
               and (end - start + 1) * lengths[end] <= max_tokens):
            end += 1
        yield start, end
        start = end


def sorted_batches(tokenizer: PreTrainedTokenizerBase, encoded: BatchEncoding,
                   batch_size: int, max_tokens: int = MAX_TOKENS
                   ) -> Iterator[tuple[np.ndarray, dict[str, np.ndarray]]]:
    """``(positions, arrays)`` per batch of at most ``batch_size`` rows of ``encoded``
    (unpadded token ids) and ``max_tokens`` tokens, shortest first; ``positions`` index
    the rows in input order."""
    lengths = np.array([len(ids) for ids in encoded["input_ids"]])
    order = np.argsort(lengths, kind="stable")
    for start, end in _spans(lengths[order], batch_size, max_tokens):
        positions = order[start:end]
        batch = tokenizer.pad({key: [values[i] for i in positions]
                               for key, values in encoded.items()}, return_tensors="np")
        yield positions, {key: value.astype(np.int64) for key, value in batch.items()}


def run_sorted(tokenizer: PreTrainedTokenizerBase, encoded: BatchEncoding, batch_size: int,
               forward, n_outputs: int) -> np.ndarray:
    """``forward(arrays) -> (rows, n_outputs)`` over length-sorted batches, in input order."""
    out = np.zeros((len(encoded["input_ids"]), n_outputs), dtype=np.float32)
    for positions, arrays in sorted_batches(tokenizer, encoded, batch_size):
        out[positions] = forward(arrays)
    return out
