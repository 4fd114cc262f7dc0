"""Unreadable samples: training logs and replaces them (bounded), evaluation keeps and reports them.

See the module docstring of ``mmaction/datasets/base_action_dataset.py``.
"""

import re
import time
from pathlib import Path
from typing import List

import numpy as np
import pytest
import torch

from mmaction.datasets import RawframeDataset, VideoDataset
from mmaction.datasets.video_io import VideoDecodeError
from mmaction.registry import METRICS

pytestmark = pytest.mark.timeout(60)
BAD = ("missing.mp4", "garbage.mp4", "empty.mp4", "truncated.mp4")


def pipeline(test_mode: bool, init: str = "DecordInit", decode: str = "DecordDecode") -> List[dict]:
    return [
        dict(type=init),
        dict(type="SampleFrames", clip_len=4, frame_interval=2, num_clips=2 if test_mode else 1, test_mode=test_mode),
        dict(type=decode),
        dict(type="Resize", scale=(-1, 40)),
        dict(type="CenterCrop", crop_size=32),
        dict(type="FormatShape", input_format="NCTHW"),
        dict(type="PackActionInputs"),
    ]


def make_dataset(video_dir: Path, tmp_path: Path, names, test_mode: bool, **kwargs) -> VideoDataset:
    ann = tmp_path / "list.txt"
    ann.write_text("".join(f"{n} {i}\n" for i, n in enumerate(names)))
    kwargs.setdefault("pipeline", pipeline(test_mode))
    return VideoDataset(ann_file=str(ann), data_prefix=dict(video=str(video_dir)), test_mode=test_mode,
                        serialize_data=False, **kwargs)


# --------------------------------------------------------------------------- training
def test_training_skips_an_unreadable_video_and_counts(video_dir, tmp_path, mm_log):
    ds = make_dataset(video_dir, tmp_path, ["v64.mp4", *BAD], test_mode=False)
    np.random.seed(0)
    for idx in range(1, len(ds)):
        out = ds[idx]
        assert out["data_samples"].metainfo["filename"] == str(video_dir / "v64.mp4")
        assert out["inputs"].dtype == torch.uint8 and tuple(out["inputs"].shape) == (1, 3, 4, 32, 32)
    warnings = [m for m in mm_log if "cannot load sample" in m]
    assert len(warnings) >= len(BAD)  # one per failure (random replacements may fail too)
    counts = [int(re.search(r"(\d+) unreadable so far", m).group(1)) for m in warnings]
    assert counts == list(range(1, len(warnings) + 1))
    for name in BAD:
        assert any(name in m and "using another random sample" in m for m in warnings), name


def test_training_gives_up_after_bounded_retries(video_dir, tmp_path):
    ds = make_dataset(video_dir, tmp_path, list(BAD), test_mode=False, max_load_retries=3)
    start = time.monotonic()
    with pytest.raises(RuntimeError, match=r"4 samples in a row could not be loaded") as info:
        ds[0]
    assert time.monotonic() - start < 20
    assert isinstance(info.value.__cause__, VideoDecodeError)
    assert "check_videos.py" in str(info.value)


def test_training_treats_a_none_result_as_unreadable(video_dir, tmp_path, mm_log):
    calls = []

    def reject_first(results):
        calls.append(results["filename"])
        return None if len(calls) == 1 else results

    steps = [reject_first] + pipeline(False)
    ds = make_dataset(video_dir, tmp_path, ["v64.mp4", "v30.mkv"], test_mode=False, pipeline=steps)
    out = ds[0]
    assert out["inputs"].shape[0] == 1 and len(calls) == 2
    assert any("the pipeline returned None" in m for m in mm_log)


def test_slow_sample_hits_the_time_limit(video_dir, tmp_path, mm_log):
    calls = []

    def slow_once(results):
        calls.append(1)
        if len(calls) == 1:
            time.sleep(10)
        return results

    ds = make_dataset(video_dir, tmp_path, ["v64.mp4"], test_mode=False, pipeline=[slow_once] + pipeline(False),
                      decode_timeout=0.5)
    start = time.monotonic()
    out = ds[0]
    assert time.monotonic() - start < 5 and out["inputs"].shape[0] == 1
    assert any("DecodeTimeoutError" in m and "decode_timeout=0.5" in m for m in mm_log)


# --------------------------------------------------------------------------- evaluation
@pytest.mark.parametrize("backend", ["decord", "pyav"])
def test_evaluation_keeps_unreadable_videos_as_black_frames(video_dir, tmp_path, mm_log, backend):
    init, decode = ("DecordInit", "DecordDecode") if backend == "decord" else ("PyAVInit", "PyAVDecode")
    names = ["v64.mp4", *BAD, "v30.mkv"]
    ds = make_dataset(video_dir, tmp_path, names, test_mode=True, pipeline=pipeline(True, init, decode))
    assert len(ds) == len(names)
    outs = [ds[i] for i in range(len(ds))]
    shapes = {tuple(o["inputs"].shape) for o in outs}
    assert shapes == {(2, 3, 4, 32, 32)}  # the same views as a readable video
    for name, out in zip(names, outs):
        meta = out["data_samples"].metainfo
        assert meta["filename"] == str(video_dir / name)
        assert meta["decode_failed"] is (name in BAD)
        assert bool((out["inputs"] == 0).all()) is (name in BAD)
    assert [o["data_samples"].gt_label.item() for o in outs] == list(range(len(names)))
    failures = [m for m in mm_log if "evaluated as black frames with decode_failed=True" in m]
    assert len(failures) == len(BAD)


def test_metric_reports_unreadable_videos_without_shrinking_the_denominator(video_dir, tmp_path, mm_log):
    names = ["v64.mp4", "missing.mp4", "v30.mkv", "garbage.mp4"]
    ds = make_dataset(video_dir, tmp_path, names, test_mode=True)
    metric = METRICS.build(dict(type="AccMetric", metric_list=("top_k_accuracy",), topk=(1,)))
    samples = []
    for i in range(len(ds)):
        sample = ds[i]["data_samples"]
        score = torch.zeros(len(names))
        score[sample.gt_label.item()] = 1.0  # a perfect model
        samples.append(sample.set_pred_score(score))
    metric.process({}, samples)
    result = metric.compute_metrics(metric.results)
    assert result["num_failed"] == 2
    assert result["top1"] == pytest.approx(0.5)  # 2 right out of 4 videos, not 2 out of 2
    report = [m for m in mm_log if "could not be decoded" in m]
    assert report and "2 of 4 videos" in report[0] and "missing.mp4" in report[0] and "garbage.mp4" in report[0]


def test_missing_frame_folder_at_evaluation(tmp_path, mm_log):
    ann = tmp_path / "list.txt"
    ann.write_text("nope 10 1\n")
    steps = [
        dict(type="SampleFrames", clip_len=4, frame_interval=1, num_clips=1, test_mode=True),
        dict(type="RawFrameDecode"),
        dict(type="Resize", scale=(-1, 40)),
        dict(type="CenterCrop", crop_size=32),
        dict(type="FormatShape", input_format="NCTHW"),
        dict(type="PackActionInputs"),
    ]
    ds = RawframeDataset(ann_file=str(ann), data_prefix=dict(img=str(tmp_path)), pipeline=steps, test_mode=True,
                         serialize_data=False)
    out = ds[0]
    assert tuple(out["inputs"].shape) == (1, 3, 4, 32, 32) and int(out["inputs"].max()) == 0
    assert out["data_samples"].metainfo["decode_failed"] is True
    assert any("VideoFileMissingError" in m and "img_0000" in m for m in mm_log)
