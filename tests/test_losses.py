"""The training loss, checked against values computed by hand."""

from __future__ import annotations

import math

import pytest
import torch

from stancewatch.losses import NO_LABEL, class_weights, stance_loss


def _log_softmax(row: list[float]) -> list[float]:
    top = math.log(sum(math.exp(v) for v in row))
    return [v - top for v in row]


def test_class_weights_are_inverse_frequency_and_skip_unlabelled_rows():
    weights = class_weights([0, 0, 0, 1, 2, 2, NO_LABEL, NO_LABEL])
    assert weights.tolist() == pytest.approx([6 / 9, 6 / 3, 6 / 6])


def test_gold_rows_cost_weighted_cross_entropy():
    logits = [[2.0, 0.0, -1.0], [0.5, 1.5, 0.0]]
    loss = stance_loss(torch.tensor(logits), torch.tensor([0, 2]),
                       weights=torch.tensor([1.0, 3.0]),
                       class_weight=torch.tensor([0.5, 1.0, 2.0]))
    by_hand = (1.0 * 0.5 * -_log_softmax(logits[0])[0]
               + 3.0 * 2.0 * -_log_softmax(logits[1])[2]) / 2
    assert loss.item() == pytest.approx(by_hand, rel=1e-5)


def test_teacher_rows_cost_tempered_kl_and_gold_wins():
    logits = [[1.0, 0.0, 0.0], [0.2, -0.3, 1.1]]
    teacher = [0.7, 0.2, 0.1]
    T, alpha = 2.0, 0.5
    loss = stance_loss(torch.tensor(logits), torch.tensor([1, NO_LABEL]),
                       soft=torch.tensor([[0.0, 0.0, 1.0], teacher]), alpha=alpha,
                       temperature=T)
    softened = [p ** (1 / T) for p in teacher]
    q = [p / sum(softened) for p in softened]
    log_p = _log_softmax([v / T for v in logits[1]])
    kl = sum(qi * (math.log(qi) - lp) for qi, lp in zip(q, log_p, strict=True))
    # row 0 has a gold label: its (contradicting) teacher row is ignored
    by_hand = (-_log_softmax(logits[0])[1] + alpha * T**2 * kl) / 2
    assert loss.item() == pytest.approx(by_hand, rel=1e-5)


def test_teacher_rows_need_probabilities():
    with pytest.raises(ValueError, match="teacher's probabilities"):
        stance_loss(torch.zeros(1, 3), torch.tensor([NO_LABEL]))
