"""Normalize, FormatShape, PackActionInputs and the legacy Collect + ToTensor ending.

The contract (docs/architecture.md, "Pipeline output"): ``inputs`` is a uint8 tensor, (V, C, T, H, W)
for NCTHW, (V*T, C, H, W) for NCHW; ``data_samples`` carries ``gt_label`` and the metainfo
``filename``, ``sample_idx``, ``num_clips``, ``num_crops``, ``decode_failed``.
"""

import warnings
from typing import List

import numpy as np
import pytest
import torch
from torchvision import tv_tensors

from mmaction.registry import TRANSFORMS
from mmaction.structures import ActionDataSample


CLIP_NORM = dict(mean=[122.769, 116.74, 104.04], std=[68.493, 66.63, 70.321], to_bgr=False)


def clip(n: int, h: int = 16, w: int = 20) -> tv_tensors.Video:
    """Frame k is filled with the value k (so the frame order can be read back)."""
    return tv_tensors.Video(torch.arange(n, dtype=torch.uint8).view(n, 1, 1, 1).expand(n, 3, h, w).contiguous())


def test_normalize_keeps_uint8_and_records_the_config():
    imgs = clip(4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        step = TRANSFORMS.build(dict(type="Normalize", **CLIP_NORM))
    out = step(dict(imgs=imgs))
    assert out["imgs"] is imgs and out["imgs"].dtype == torch.uint8
    assert out["img_norm_cfg"] == CLIP_NORM
    rgb = tv_tensors.Video(torch.stack([torch.full((2, 2), v, dtype=torch.uint8) for v in (1, 2, 3)]).unsqueeze(0))
    bgr = TRANSFORMS.build(dict(type="Normalize", **dict(CLIP_NORM, to_bgr=True)))(dict(imgs=rgb))["imgs"]
    assert bgr[0, :, 0, 0].tolist() == [3, 2, 1]


@pytest.mark.parametrize("num_clips,clip_len,crops", [(1, 8, 1), (3, 4, 1), (2, 4, 3)])
def test_format_shape_ncthw(num_clips, clip_len, crops):
    n = num_clips * clip_len * crops
    out = TRANSFORMS.build(dict(type="FormatShape", input_format="NCTHW"))(
        dict(imgs=clip(n), clip_len=clip_len, num_clips=num_clips))
    imgs = out["imgs"]
    assert type(imgs) is torch.Tensor and imgs.dtype == torch.uint8 and imgs.is_contiguous()
    assert tuple(imgs.shape) == (crops * num_clips, 3, clip_len, 16, 20)
    assert out["num_crops"] == crops and out["input_shape"] == tuple(imgs.shape)
    # view v, time t is input frame v * clip_len + t
    assert imgs[:, 0, :, 0, 0].flatten().tolist() == list(range(n))


def test_format_shape_nchw_and_collapse():
    out = TRANSFORMS.build(dict(type="FormatShape", input_format="NCHW"))(dict(imgs=clip(8), clip_len=1, num_clips=8))
    assert tuple(out["imgs"].shape) == (8, 3, 16, 20)
    out = TRANSFORMS.build(dict(type="FormatShape", input_format="NCTHW", collapse=True))(
        dict(imgs=clip(8), clip_len=8, num_clips=1))
    assert tuple(out["imgs"].shape) == (3, 8, 16, 20)
    with pytest.raises(ValueError, match="num_clips=3 x clip_len=4"):
        TRANSFORMS.build(dict(type="FormatShape", input_format="NCTHW"))(dict(imgs=clip(10), clip_len=4, num_clips=3))
    with pytest.raises(ValueError):
        TRANSFORMS.build(dict(type="FormatShape", input_format="NTHWC"))


def formatted(n_views: int = 3, clip_len: int = 4, label=5) -> dict:
    imgs = torch.zeros((n_views, 3, clip_len, 8, 8), dtype=torch.uint8)
    return dict(imgs=imgs, label=label, filename="/v/a.mp4", sample_idx=7, num_clips=n_views, num_crops=1,
                img_shape=(8, 8), clip_len=clip_len)


def check_contract(out: dict, views: int = 3, label: List[int] = (5,)) -> ActionDataSample:
    assert set(out) == {"inputs", "data_samples"}
    assert type(out["inputs"]) is torch.Tensor and out["inputs"].dtype == torch.uint8
    assert tuple(out["inputs"].shape) == (views, 3, 4, 8, 8)
    sample = out["data_samples"]
    assert isinstance(sample, ActionDataSample)
    assert sample.gt_label.dtype == torch.long and sample.gt_label.tolist() == list(label)
    meta = sample.metainfo
    assert (meta["filename"], meta["sample_idx"], meta["num_clips"], meta["num_crops"]) == ("/v/a.mp4", 7, 3, 1)
    assert meta["decode_failed"] is False
    return sample


def test_pack_action_inputs_contract():
    out = TRANSFORMS.build(dict(type="PackActionInputs"))(formatted())
    sample = check_contract(out)
    assert sample.metainfo["img_shape"] == (8, 8)
    multi = TRANSFORMS.build(dict(type="PackActionInputs"))(formatted(label=[1, 4]))
    assert multi["data_samples"].gt_label.tolist() == [1, 4]


def test_legacy_collect_to_tensor_gives_the_same_contract():
    results = formatted()
    results["img_norm_cfg"] = CLIP_NORM
    steps = [TRANSFORMS.build(dict(type="Collect", keys=["imgs", "label"], meta_keys=[])),
             TRANSFORMS.build(dict(type="ToTensor", keys=["imgs", "label"]))]
    out = results
    for step in steps:
        out = step(out)
    check_contract(out)
    new = TRANSFORMS.build(dict(type="PackActionInputs"))(formatted())
    assert torch.equal(out["inputs"], new["inputs"])
    with pytest.raises(ValueError, match="'imgs'"):
        TRANSFORMS.build(dict(type="Collect", keys=["label"]))


def test_to_tensor_alone_converts_keys():
    out = TRANSFORMS.build(dict(type="ToTensor", keys=["imgs", "label"]))(
        dict(imgs=np.zeros((2, 3), dtype=np.uint8), label=3))
    assert out["imgs"].dtype == torch.uint8 and out["label"].tolist() == [3]
    with pytest.raises(KeyError, match="'label'"):
        TRANSFORMS.build(dict(type="ToTensor", keys=["label"]))(dict(imgs=1))
