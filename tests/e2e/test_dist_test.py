"""``bash tools/dist_test.sh CFG CKPT 2 --eval top_k_accuracy mean_class_accuracy --out results.pkl``
on a test set of 7 videos (odd: the 2 processes get 4 + 4 with one padding sample) reports the
accuracy over exactly the 7 videos, equal to ``python tools/test.py`` on one process, and writes
7 per-video entries in dataset order (.pkl and .json)."""

import json
import pickle

import numpy as np
import pytest

from tests.e2e.conftest import NUM_TEST
from tests.engine.engine_testkit import describe, dist_tool, output, parse_metric_line, python_tool, run_tool
from mmaction.evaluation.functional import mean_class_accuracy, top_k_accuracy

pytestmark = pytest.mark.slow

EVAL = ("--eval", "top_k_accuracy", "mean_class_accuracy")


@pytest.fixture(scope="module")
def tested(dist_run, videos, tmp_path_factory):
    """(2-process result, 1-process result, .pkl entries, .json entries, checkpoint)."""
    assert dist_run.proc.returncode == 0, describe(dist_run.proc)
    out = tmp_path_factory.mktemp("e2e_test_out")
    ckpt = dist_run.work_dir / "epoch_3.pth"
    two = dist_tool("dist_test.sh", str(dist_run.config), str(ckpt), *EVAL, "--out", str(out / "results.pkl"),
                    "--work-dir", str(out / "two"), nproc=2)
    one = run_tool(python_tool("test.py", str(dist_run.config), str(ckpt), *EVAL, "--out", str(out / "results.json"),
                               "--work-dir", str(out / "one")))
    assert two.returncode == 0, describe(two)
    assert one.returncode == 0, describe(one)
    with open(out / "results.pkl", "rb") as f:
        pkl = pickle.load(f)
    json_entries = json.loads((out / "results.json").read_text())
    return two, one, pkl, json_entries, ckpt


def test_accuracy_over_exactly_the_dataset_and_equal_to_one_process(tested):
    two, one, _, _, ckpt = tested
    for proc in (two, one):
        assert f"AccMetric: evaluated {NUM_TEST} videos" in output(proc)
        assert "DumpVideoResults: 7 videos written to" in output(proc)
    m2 = parse_metric_line(output(two), f"test {ckpt}:")
    m1 = parse_metric_line(output(one), f"test {ckpt}:")
    assert set(m2) == {"acc/top1", "acc/top5", "acc/mean1", "acc/num_failed"}
    assert m2 == m1


def test_out_files_hold_every_video_in_dataset_order(tested, videos):
    _, _, pkl, json_entries, _ = tested
    listed = [line.split() for line in videos.test.read_text().splitlines()]
    expected_names = [str(videos.root / rel) for rel, _ in listed]
    expected_labels = [int(label) for _, label in listed]
    for entries in (pkl, json_entries):
        assert len(entries) == NUM_TEST
        assert [e["filename"] for e in entries] == expected_names
        assert [e["sample_idx"] for e in entries] == list(range(NUM_TEST))
        assert [e["label"] for e in entries] == expected_labels
        assert all(e["decode_failed"] is False for e in entries)
        for e in entries:
            score = np.asarray(e["pred_score"])
            assert score.shape == (3,) and np.isclose(score.sum(), 1.0, atol=1e-5)  # average_clips='prob'
            assert e["pred_label"] == int(np.argmax(score))
    assert isinstance(pkl[0]["pred_score"], np.ndarray)
    # 2 processes (.pkl) and 1 process (.json) give the same scores
    np.testing.assert_allclose(np.stack([e["pred_score"] for e in pkl]),
                               np.array([e["pred_score"] for e in json_entries]), rtol=0, atol=1e-6)


def test_reported_accuracy_is_the_accuracy_of_the_dumped_scores(tested):
    two, _, pkl, _, ckpt = tested
    scores = np.stack([e["pred_score"] for e in pkl])
    labels = np.array([e["label"] for e in pkl])
    metrics = parse_metric_line(output(two), f"test {ckpt}:")
    top1, top5 = top_k_accuracy(scores, labels, (1, 5))
    assert metrics["acc/top1"] == pytest.approx(round(top1, 4), abs=1e-9)
    assert metrics["acc/top5"] == pytest.approx(round(top5, 4), abs=1e-9)
    assert metrics["acc/mean1"] == pytest.approx(round(mean_class_accuracy(scores, labels), 4), abs=1e-9)
    # hits over exactly 7 videos: no padding sample counted, none lost
    hits = (scores.argmax(axis=1) == labels).sum()
    assert metrics["acc/top1"] == pytest.approx(round(hits / NUM_TEST, 4), abs=1e-9)


def test_same_numbers_as_test_last_of_the_training_run(tested, dist_run):
    # epoch_3.pth holds the final weights that --test-last tested at the end of training
    two, _, _, _, ckpt = tested
    assert parse_metric_line(output(two), f"test {ckpt}:") == parse_metric_line(output(dist_run.proc),
                                                                                "test (last weights):")
