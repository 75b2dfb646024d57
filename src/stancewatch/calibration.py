"""Temperature scaling (Guo et al., 2017): one scalar that divides the logits."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax, softmax


def softmax_with_temperature(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    return softmax(np.asarray(logits, dtype=np.float64) / temperature, axis=-1)


def fit_temperature(logits: np.ndarray, y_true: ArrayLike) -> float:
    """The temperature that minimises validation negative log-likelihood."""
    logits = np.asarray(logits, dtype=np.float64)
    y_true = np.asarray(y_true)
    if len(logits) == 0:
        return 1.0

    def nll(log_t: float) -> float:
        scores = log_softmax(logits / np.exp(log_t), axis=-1)
        return -float(scores[np.arange(len(y_true)), y_true].mean())

    result = minimize_scalar(nll, bounds=(np.log(0.05), np.log(20.0)), method="bounded")
    return float(np.exp(result.x))
