"""Classification metrics, calibration error and the confusion-matrix plot."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from numpy.typing import ArrayLike
from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support

from .labels import LABELS

_IDS = list(range(len(LABELS)))


def macro_f1(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    return float(f1_score(y_true, y_pred, labels=_IDS, average="macro", zero_division=0))


def reliability_bins(probs: np.ndarray, y_true: ArrayLike, bins: int = 10
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Top-label confidence in equal-width bins: per bin the mean confidence, the
    accuracy and the count (an empty bin has NaN, NaN, 0)."""
    probs = np.asarray(probs)
    confidence = probs.max(1)
    correct = probs.argmax(1) == np.asarray(y_true)
    edges = np.linspace(0.0, 1.0, bins + 1)
    which = np.clip(np.digitize(confidence, edges[1:-1], right=True), 0, bins - 1)
    count = np.bincount(which, minlength=bins)
    with np.errstate(invalid="ignore"):
        mean_confidence = np.bincount(which, weights=confidence, minlength=bins) / count
        accuracy = np.bincount(which, weights=correct, minlength=bins) / count
    return mean_confidence, accuracy, count


def expected_calibration_error(probs: np.ndarray, y_true: ArrayLike, bins: int = 10) -> float:
    """Top-label ECE with equal-width confidence bins."""
    if len(probs) == 0:
        return 0.0
    confidence, accuracy, count = reliability_bins(probs, y_true, bins)
    filled = count > 0
    return float((count[filled] / count.sum()
                  * np.abs(accuracy[filled] - confidence[filled])).sum())


def classification_metrics(y_true: ArrayLike, y_pred: ArrayLike) -> dict:
    """``n``, ``accuracy``, ``macro_f1``, ``per_class`` and ``confusion_matrix``
    (rows = true, columns = predicted, in LABELS order), from label ids."""
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=_IDS, zero_division=0
    )
    return {
        "n": int(len(y_true)),
        "accuracy": float((y_true == y_pred).mean()) if len(y_true) else 0.0,
        "macro_f1": macro_f1(y_true, y_pred),
        "per_class": {
            label: {"precision": float(precision[i]), "recall": float(recall[i]),
                    "f1": float(f1[i]), "support": int(support[i])}
            for i, label in enumerate(LABELS)
        },
        "confusion_matrix": confusion_matrix(y_true, y_pred, labels=_IDS).tolist(),
    }


def format_report(metrics: dict, title: str) -> str:
    """A plain-text per-class table, like scikit-learn's classification_report."""
    lines = [title, f"{'':>12} {'precision':>9} {'recall':>9} {'f1':>9} {'support':>9}"]
    for label, row in metrics["per_class"].items():
        lines.append(f"{label:>12} {row['precision']:9.3f} {row['recall']:9.3f} "
                     f"{row['f1']:9.3f} {row['support']:9d}")
    lines.append(f"{'accuracy':>12} {'':>9} {'':>9} {metrics['accuracy']:9.3f} {metrics['n']:9d}")
    lines.append(f"{'macro f1':>12} {'':>9} {'':>9} {metrics['macro_f1']:9.3f} {metrics['n']:9d}")
    return "\n".join(lines) + "\n"


def plot_confusion(matrix: list[list[int]], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    matrix = np.asarray(matrix)
    fig, ax = plt.subplots(figsize=(4.2, 3.8))
    ax.imshow(matrix, cmap="Blues")
    ax.set_xticks(_IDS, LABELS, rotation=30)
    ax.set_yticks(_IDS, LABELS)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    for i in _IDS:
        for j in _IDS:
            ax.text(j, i, str(matrix[i, j]), ha="center", va="center",
                    color="white" if matrix[i, j] > matrix.max() / 2 else "black")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
