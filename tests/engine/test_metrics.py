"""AccMetric and DumpVideoResults on ActionDataSamples."""

import json
import pickle

import numpy as np
import pytest
import torch

from mmaction.evaluation import AccMetric, DumpVideoResults
from mmaction.evaluation.functional import mean_class_accuracy, top_k_accuracy
from mmaction.structures import ActionDataSample


def make_samples(scores, labels, failed=(), views=None):
    samples = []
    for i, (score, label) in enumerate(zip(scores, labels)):
        sample = ActionDataSample().set_gt_label(int(label))
        sample.set_metainfo(dict(filename=f"/videos/v{i}.mp4", sample_idx=i, decode_failed=i in failed))
        value = torch.as_tensor(score, dtype=torch.float32)
        if views is not None:
            value = value.unsqueeze(0).repeat(views, 1) + torch.randn(views, value.numel()) * 0.01
        sample.set_pred_score(value)
        samples.append(sample)
    return samples


def run_metric(metric, samples, batch=3):
    for start in range(0, len(samples), batch):
        metric.process({}, samples[start:start + batch])
    return metric.evaluate(len(samples))


def test_acc_metric_keys_and_values():
    rng = np.random.default_rng(0)
    scores, labels = rng.normal(size=(11, 6)), rng.integers(0, 6, size=11)
    out = run_metric(AccMetric(), make_samples(scores, labels))
    top1, top5 = top_k_accuracy(scores, labels, (1, 5))
    assert out == {"acc/top1": pytest.approx(top1), "acc/top5": pytest.approx(top5),
                   "acc/mean1": pytest.approx(mean_class_accuracy(scores, labels)), "acc/num_failed": 0}


def test_failed_videos_count_as_wrong_and_are_logged(mm_log):
    scores = np.eye(4)
    samples = make_samples(scores, np.arange(4), failed={2})
    out = run_metric(AccMetric(metric_list="top_k_accuracy", topk=1), samples)
    assert out == {"acc/top1": 0.75, "acc/num_failed": 1}
    logged = "\n".join(mm_log)
    assert "1 of 4 videos could not be decoded" in logged and "/videos/v2.mp4" in logged


def test_view_scores_are_averaged_and_options_respected():
    scores = np.array([[0.1, 0.9, 0.0], [0.8, 0.1, 0.1], [0.2, 0.3, 0.5]])
    samples = make_samples(scores, [1, 0, 0], views=3)
    out = run_metric(AccMetric(metric_options=dict(top_k_accuracy=dict(topk=(1, 2)))), samples)
    assert out["acc/top1"] == pytest.approx(2 / 3) and out["acc/top2"] == pytest.approx(2 / 3)
    assert "acc/top5" not in out


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown metric"):
        AccMetric(metric_list=("top_k_accuracy", "mAP"))
    with pytest.raises(ValueError, match="topk"):
        AccMetric(topk=(0,))
    with pytest.raises(ValueError, match="2 labels"):
        sample = ActionDataSample().set_gt_label([1, 2])
        sample.set_pred_score(torch.zeros(3))
        AccMetric().process({}, [sample])


@pytest.mark.parametrize("ext", ["pkl", "json"])
def test_dump_results(tmp_path, ext):
    rng = np.random.default_rng(1)
    scores, labels = rng.normal(size=(5, 4)), [0, 1, 2, 3, 0]
    out_file = tmp_path / f"results.{ext}"
    metric = DumpVideoResults(out_file_path=str(out_file))
    assert run_metric(metric, make_samples(scores, labels, failed={4}), batch=2) == {}
    entries = pickle.loads(out_file.read_bytes()) if ext == "pkl" else json.loads(out_file.read_text())
    assert [e["sample_idx"] for e in entries] == [0, 1, 2, 3, 4]
    assert [e["label"] for e in entries] == labels
    assert entries[3]["filename"] == "/videos/v3.mp4" and entries[4]["decode_failed"] is True
    np.testing.assert_allclose(np.asarray(entries[2]["pred_score"]), scores[2], rtol=1e-6)
    assert entries[2]["pred_label"] == int(np.argmax(scores[2]))
    with pytest.raises(ValueError, match=r"\.pkl, \.pickle or \.json"):
        DumpVideoResults(out_file_path=str(tmp_path / "x.txt"))
