"""The original configs' pipelines run: AIM's MMAction2 0.x spellings and our base configs.

AIM's configs were written for MMAction2 0.x (``Imgaug``, ``Normalize`` in the pipeline,
``Collect`` + ``ToTensor``, ``frame_uniform``); every step must build from those dicts and the
pipeline must produce the uint8 contract output.
"""

import copy
import warnings
from typing import List, Tuple

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import Compose

from mmaction.registry import TRANSFORMS

from .video_factory import index_of_frame

CLIP_NORM = dict(mean=[122.769, 116.74, 104.04], std=[68.493, 66.63, 70.321], to_bgr=False)


def aim_original_pipelines(size: int = 32, short: int = 40) -> Tuple[List[dict], List[dict]]:
    """AIM's original (MMAction2 0.x) SSv2 pipelines, with small sizes."""
    train = [
        dict(type="DecordInit"),
        dict(type="SampleFrames", clip_len=8, frame_interval=1, num_clips=1, frame_uniform=True),
        dict(type="DecordDecode"),
        dict(type="Resize", scale=(-1, short)),
        dict(type="RandomResizedCrop"),
        dict(type="Resize", scale=(size, size), keep_ratio=False),
        dict(type="Imgaug", transforms=[dict(type="RandAugment", n=4, m=7)]),
        dict(type="Normalize", **CLIP_NORM),
        dict(type="RandomErasing", probability=0.25),
        dict(type="FormatShape", input_format="NCTHW"),
        dict(type="Collect", keys=["imgs", "label"], meta_keys=[]),
        dict(type="ToTensor", keys=["imgs", "label"]),
    ]
    test = [
        dict(type="DecordInit"),
        dict(type="SampleFrames", clip_len=8, frame_interval=1, num_clips=1, frame_uniform=True, test_mode=True),
        dict(type="DecordDecode"),
        dict(type="Resize", scale=(-1, size)),
        dict(type="ThreeCrop", crop_size=size),
        dict(type="Normalize", **CLIP_NORM),
        dict(type="FormatShape", input_format="NCTHW"),
        dict(type="Collect", keys=["imgs", "label"], meta_keys=[]),
        dict(type="ToTensor", keys=["imgs"]),
    ]
    return train, test


def run_pipeline(cfg: List[dict], filename: str, label: int = 2) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pipeline = Compose(copy.deepcopy(cfg))
    return pipeline(dict(filename=filename, label=label, sample_idx=0, start_index=0, modality="RGB"))


def test_aim_original_pipelines_run(video_dir):
    train, test = aim_original_pipelines()
    np.random.seed(0)
    out = run_pipeline(train, str(video_dir / "v64.mp4"))
    assert out["inputs"].dtype == torch.uint8 and tuple(out["inputs"].shape) == (1, 3, 8, 32, 32)
    assert out["data_samples"].gt_label.tolist() == [2]
    out = run_pipeline(test, str(video_dir / "v64.mp4"))
    inputs = out["inputs"]
    assert tuple(inputs.shape) == (3, 3, 8, 32, 32) and out["data_samples"].metainfo["num_crops"] == 3
    # test frames are the uniform-sampling middles (no augmentation at test time)
    got = [index_of_frame(inputs[0, :, t].numpy()) for t in range(8)]
    seg = 63 / 8
    assert got == [(int(round(seg * i)) + int(round(seg * (i + 1)))) // 2 for i in range(8)]


@pytest.mark.parametrize("dataset,split,views", [("k400", "train", 1), ("k400", "test", 3), ("sthv2", "test", 3),
                                                 ("diving48", "val", 1)])
def test_base_config_pipelines_run(repo_root, video_dir, dataset, split, views):
    cfg = Config.fromfile(str(repo_root / "configs" / "_base_" / "datasets" / f"{dataset}.py"))
    out = run_pipeline(cfg[f"{split}_pipeline"], str(video_dir / "v300.mp4"))
    inputs = out["inputs"]
    assert inputs.dtype == torch.uint8 and inputs.ndim == 5
    assert inputs.shape[0] == views and inputs.shape[1] == 3 and tuple(inputs.shape[-2:]) == (224, 224)
    assert out["data_samples"].metainfo["decode_failed"] is False


@pytest.mark.parametrize(
    "cfg",
    [
        dict(type="DecordInit", io_backend="disk", num_threads=1),
        dict(type="DecordDecode", mode="efficient"),
        dict(type="PyAVInit", io_backend="disk"),
        dict(type="PyAVDecode", multi_thread=True, mode="accurate"),
        dict(type="RawFrameDecode", io_backend="disk", decoding_backend="turbojpeg"),
        dict(type="SampleFrames", clip_len=8, frame_interval=16, num_clips=1, start_index=0),
        dict(type="UniformSampleFrames", clip_len=8, num_clips=1, test_mode=True, seed=255),
        dict(type="Resize", scale=(-1, 256), keep_ratio=True, interpolation="bilinear", lazy=False),
        dict(type="RandomResizedCrop", area_range=(0.08, 1.0), aspect_ratio_range=(3 / 4, 4 / 3), lazy=False),
        dict(type="MultiScaleCrop", input_size=224, scales=(1, 0.875, 0.75, 0.66), random_crop=False,
             max_wh_scale_gap=1, num_fixed_crops=13, lazy=False),
        dict(type="Flip", flip_ratio=0.5, direction="horizontal", flip_label_map=None, left_kp=None, right_kp=None,
             lazy=False),
        dict(type="RandomErasing", probability=0.25, mode="pixel", max_count=1, num_splits=1, device="cpu"),
        dict(type="Fuse"),
    ],
    ids=lambda c: c["type"],
)
def test_mmaction2_arguments_are_accepted(cfg):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        step = TRANSFORMS.build(copy.deepcopy(cfg))
    assert type(step).__name__ == cfg["type"]
    # The only warning allowed is the once-per-process note that an argument asking for something is
    # accepted but not implemented (e.g. SampleFrames' start_index, RandomErasing's device), naming both.
    for w in caught:
        text = str(w.message)
        assert text.startswith(f"{cfg['type']}: argument ") and "accepted for compatibility but not implemented" in text, text


def test_unsupported_io_backend_is_refused():
    with pytest.raises(ValueError, match="io_backend='petrel'"):
        TRANSFORMS.build(dict(type="DecordInit", io_backend="petrel"))
