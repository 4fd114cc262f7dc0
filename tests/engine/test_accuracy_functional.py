"""top_k_accuracy / mean_class_accuracy against brute-force computations."""

import numpy as np
import pytest

from mmaction.evaluation.functional import mean_class_accuracy, top_k_accuracy, top_k_hits


def brute_top_k(scores, labels, k):
    hits = 0
    for row, label in zip(scores, labels):
        rank = sum(1 for s in row if s > row[label])  # classes scored strictly higher (no ties here)
        hits += rank < k
    return hits / len(labels)


def brute_mean_class(scores, labels):
    per_class = {}
    for row, label in zip(scores, labels):
        per_class.setdefault(int(label), []).append(int(np.argmax(row)) == label)
    return float(np.mean([np.mean(v) for v in per_class.values()]))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    n, k = 57, 7
    scores = rng.normal(size=(n, k))
    labels = rng.integers(0, k, size=n)
    got = top_k_accuracy(scores, labels, topk=(1, 3, 5, 7))
    assert got == pytest.approx([brute_top_k(scores, labels, t) for t in (1, 3, 5, 7)])
    assert got[-1] == 1.0
    assert mean_class_accuracy(scores, labels) == pytest.approx(brute_mean_class(scores, labels))


def test_forced_wrong_counts_as_miss_and_keeps_denominator():
    scores = np.eye(4)  # every video right
    labels = np.arange(4)
    forced = np.array([False, True, False, False])
    assert top_k_accuracy(scores, labels, (1, 4), forced_wrong=forced) == [0.75, 0.75]
    # class 1 has its only video forced wrong: (1 + 0 + 1 + 1) / 4
    assert mean_class_accuracy(scores, labels, forced_wrong=forced) == pytest.approx(0.75)


def test_mean_class_ignores_classes_without_videos():
    scores = np.array([[0.9, 0.1, 0.0], [0.2, 0.1, 0.7], [0.1, 0.0, 0.9]])
    labels = np.array([0, 0, 2])  # class 1 never the truth (and never predicted)
    # class 0: 1/2, class 2: 1/1
    assert mean_class_accuracy(scores, labels) == pytest.approx(0.75)
    assert top_k_hits(scores, labels, 1).tolist() == [True, False, True]


def test_bad_inputs_name_the_problem():
    with pytest.raises(ValueError, match=r"label 5 of video 1"):
        top_k_accuracy(np.zeros((2, 3)), np.array([0, 5]))
    with pytest.raises(ValueError, match=r"shape \(N, K\)"):
        top_k_accuracy(np.zeros(3), np.array([0, 1, 2]))
    with pytest.raises(ValueError, match="0 videos"):
        mean_class_accuracy(np.zeros((0, 3)), np.zeros(0, dtype=int))
    with pytest.raises(ValueError, match="k must be"):
        top_k_hits(np.zeros((2, 3)), np.array([0, 1]), 0)
