"""The training loss: class- and source-weighted cross-entropy on gold labels, plus
knowledge distillation (Hinton et al., 2015) on rows that carry only a teacher's
probabilities."""

from __future__ import annotations

import numpy as np
import torch
from torch.nn import functional as F

from .labels import LABELS

# Rows whose label is this carry only a teacher's probabilities.
NO_LABEL = -100


def class_weights(labels: list[int]) -> torch.Tensor:
    """Inverse-frequency weights, normalised so a balanced set gets weight 1 per class
    (and the mean weight over ``labels`` is 1). ``NO_LABEL`` rows are not counted."""
    labels = [y for y in labels if y != NO_LABEL]
    counts = np.bincount(labels, minlength=len(LABELS)).astype(float)
    counts[counts == 0] = 1.0
    return torch.tensor(counts.sum() / (len(LABELS) * counts), dtype=torch.float)


def stance_loss(
    logits: torch.Tensor,
    labels: torch.Tensor,
    weights: torch.Tensor | None = None,
    class_weight: torch.Tensor | None = None,
    soft: torch.Tensor | None = None,
    alpha: float = 1.0,
    temperature: float = 1.0,
) -> torch.Tensor:
    """Mean over the batch of each row's loss.

    A row with a gold label (``labels[i] >= 0``) costs ``w_i * c[y_i] * CE_i``; a row with
    ``labels[i] == NO_LABEL`` costs ``w_i * alpha * T^2 * KL(q_i^T || p_i^T)``, where
    ``q_i^T`` is the teacher's distribution ``soft[i]`` softened at ``T`` (``q^(1/T)``,
    renormalised) and ``p_i^T`` the student's ``softmax(logits_i / T)``; ``T^2`` keeps the
    gradient scale independent of ``T``. Gold labels win where a row has both.
    """
    weights = torch.ones(len(labels), device=logits.device) if weights is None else weights
    gold = labels != NO_LABEL
    per_row = torch.zeros(len(labels), device=logits.device)
    if gold.any():
        # with reduction="none", cross_entropy already multiplies each row by c[y_i]
        per_row[gold] = F.cross_entropy(logits[gold], labels[gold], weight=class_weight,
                                        reduction="none")
    if (~gold).any():
        if soft is None:
            raise ValueError("rows without a gold label need the teacher's probabilities")
        log_q = F.log_softmax(torch.log(soft[~gold].clamp_min(1e-8)) / temperature, dim=-1)
        log_p = F.log_softmax(logits[~gold] / temperature, dim=-1)
        kl = (log_q.exp() * (log_q - log_p)).sum(-1)
        per_row[~gold] = alpha * temperature**2 * kl
    return (weights * per_row).mean()
