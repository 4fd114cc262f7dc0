"""Video classification accuracies on numpy arrays (independent of mmengine).

Every function takes ``scores`` of shape (N, K) (one row of class scores per video, any
monotonic scale: raw scores, probabilities, log-probabilities) and ``labels`` of shape (N,)
(the ground-truth class index of each video).

``forced_wrong`` (optional, bool (N,)) marks videos that must count as wrong whatever their
scores say, e.g. videos that could not be decoded at test time: they stay in the
denominator, so the accuracy is always over exactly the N videos given.
"""

from typing import Iterable, List, Optional

import numpy as np


def _check_inputs(scores: np.ndarray, labels: np.ndarray, forced_wrong: Optional[np.ndarray]) -> tuple:
    scores = np.asarray(scores)
    labels = np.asarray(labels)
    if scores.ndim != 2:
        raise ValueError(f"scores must have shape (N, K), got shape {scores.shape}")
    if labels.ndim != 1 or labels.shape[0] != scores.shape[0]:
        raise ValueError(f"labels must have shape ({scores.shape[0]},) to match scores {scores.shape}, got {labels.shape}")
    if scores.shape[0] == 0:
        raise ValueError("cannot compute an accuracy over 0 videos")
    if not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be integer class indices, got dtype {labels.dtype}")
    bad = (labels < 0) | (labels >= scores.shape[1])
    if bad.any():
        idx = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"label {int(labels[idx])} of video {idx} is outside [0, {scores.shape[1]}) (K={scores.shape[1]} classes)"
        )
    if forced_wrong is None:
        forced_wrong = np.zeros(scores.shape[0], dtype=bool)
    else:
        forced_wrong = np.asarray(forced_wrong, dtype=bool)
        if forced_wrong.shape != labels.shape:
            raise ValueError(f"forced_wrong must have shape {labels.shape}, got {forced_wrong.shape}")
    return scores, labels, forced_wrong


def top_k_hits(scores: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """Whether the true class is among the ``k`` highest scores of each video.

    Ties are broken like MMAction2: ``np.argsort`` order, highest first.

    Args:
        scores: (N, K) class scores.
        labels: (N,) true class indices.
        k: how many top classes count as a hit (k >= 1).

    Returns:
        np.ndarray: (N,) bool.
    """
    if int(k) < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    scores, labels, _ = _check_inputs(scores, labels, None)
    top = np.argsort(scores, axis=1)[:, -int(k):]
    return (top == labels[:, None]).any(axis=1)


def top_k_accuracy(
    scores: np.ndarray,
    labels: np.ndarray,
    topk: Iterable[int] = (1,),
    forced_wrong: Optional[np.ndarray] = None,
) -> List[float]:
    """Top-k accuracy for each k of ``topk``: the fraction of videos whose true class is
    among their k highest scores.

    Args:
        scores: (N, K) class scores.
        labels: (N,) true class indices.
        topk: the k values, e.g. (1, 5).
        forced_wrong: (N,) bool, videos counted as wrong regardless of their scores.

    Returns:
        list[float]: one accuracy in [0, 1] per k, in the order of ``topk``.
    """
    scores, labels, forced_wrong = _check_inputs(scores, labels, forced_wrong)
    out = []
    for k in topk:
        hits = top_k_hits(scores, labels, k) & ~forced_wrong
        out.append(float(hits.mean()))
    return out


def mean_class_accuracy(
    scores: np.ndarray, labels: np.ndarray, forced_wrong: Optional[np.ndarray] = None
) -> float:
    """Mean over classes of the per-class top-1 accuracy (recall).

    Only classes with at least one video in ``labels`` enter the mean (a class that is
    predicted but never the truth has no accuracy of its own).

    Args:
        scores: (N, K) class scores.
        labels: (N,) true class indices.
        forced_wrong: (N,) bool, videos counted as wrong regardless of their scores.

    Returns:
        float: in [0, 1].
    """
    scores, labels, forced_wrong = _check_inputs(scores, labels, forced_wrong)
    correct = (np.argmax(scores, axis=1) == labels) & ~forced_wrong
    classes = np.unique(labels)
    per_class = [correct[labels == c].mean() for c in classes]
    return float(np.mean(per_class))

