"""Resize and the crops: MMAction2's sizes and positions, one box for every frame, uint8 kept.

The clips here hold a different random picture in every frame, so "the same box in every frame"
is checked by slicing each input frame with the recorded ``crop_bbox``.
"""

from typing import Tuple

import numpy as np
import pytest
import torch
from torchvision import tv_tensors

from mmaction.registry import TRANSFORMS


def clip(n: int = 6, h: int = 48, w: int = 64, seed: int = 0) -> tv_tensors.Video:
    gen = torch.Generator().manual_seed(seed)
    return tv_tensors.Video(torch.randint(0, 256, (n, 3, h, w), dtype=torch.uint8, generator=gen))


def apply(cfg: dict, imgs, **extra) -> dict:
    results = dict(imgs=imgs, filename="x.mp4", **extra)
    return TRANSFORMS.build(cfg)(results)


def assert_video(results: dict, shape: Tuple[int, ...]) -> torch.Tensor:
    imgs = results["imgs"]
    assert isinstance(imgs, torch.Tensor) and imgs.dtype == torch.uint8
    assert tuple(imgs.shape) == shape
    assert results["img_shape"] == shape[-2:]
    return imgs


# --------------------------------------------------------------------------- Resize
def mmcv_rescale(w: int, h: int, long_max: float, short_max: float) -> Tuple[int, int]:
    """mmcv.rescale_size for a (long, short) box, written out: the scale that fits both limits."""
    factor = min(long_max / max(h, w), short_max / min(h, w))
    return int(w * factor + 0.5), int(h * factor + 0.5)


@pytest.mark.parametrize("hw", [(48, 64), (64, 48), (35, 47), (240, 426)])
@pytest.mark.parametrize("scale", [(-1, 32), (32, -1), (-1, 256)])
def test_resize_short_side(hw, scale):
    h, w = hw
    out = apply(dict(type="Resize", scale=scale), clip(2, h, w))
    short = max(scale)
    expected_w, expected_h = mmcv_rescale(w, h, float("inf"), short)
    assert_video(out, (2, 3, expected_h, expected_w))
    assert min(expected_h, expected_w) == short
    np.testing.assert_allclose(out["scale_factor"], [expected_w / w, expected_h / h], rtol=1e-6)


def test_resize_into_a_box_and_exact():
    out = apply(dict(type="Resize", scale=(340, 256)), clip(2, 240, 426))
    assert_video(out, (2, 3, *mmcv_rescale(426, 240, 340, 256)[::-1]))
    out = apply(dict(type="Resize", scale=(30, 20), keep_ratio=False), clip(2, 48, 64))
    assert_video(out, (2, 3, 20, 30))
    out = apply(dict(type="Resize", scale=0.5), clip(2, 48, 64))
    assert_video(out, (2, 3, 24, 32))


def test_resize_treats_every_frame_alike():
    """Frame k of the resized clip equals the resize of frame k alone."""
    imgs = clip(4, 48, 64)
    out = apply(dict(type="Resize", scale=(-1, 24)), imgs)["imgs"]
    for k in range(4):
        single = apply(dict(type="Resize", scale=(-1, 24)), imgs[k : k + 1])["imgs"]
        assert torch.equal(out[k], single[0])


def test_resize_accepts_mmaction2_numpy_frames():
    frames = [np.full((48, 64, 3), i, dtype=np.uint8) for i in range(3)]  # list of (H, W, C)
    out = apply(dict(type="Resize", scale=(-1, 24)), frames)
    imgs = assert_video(out, (3, 3, 24, 32))
    assert [int(f.float().mean()) for f in imgs] == [0, 1, 2]


@pytest.mark.parametrize("bad", [dict(scale=(-1, -1)), dict(scale=(-1, 0)), dict(scale=(0, 10), keep_ratio=False),
                                 dict(scale=2.0, keep_ratio=False), dict(scale=(1, 2, 3)),
                                 dict(scale=(-1, 8), interpolation="area")])
def test_resize_bad_arguments(bad):
    with pytest.raises((ValueError, TypeError)):
        TRANSFORMS.build(dict(type="Resize", **bad))


# --------------------------------------------------------------------------- random crops
def assert_same_box_in_every_frame(imgs_in: torch.Tensor, out: dict) -> Tuple[int, int, int, int]:
    left, top, right, bottom = (int(v) for v in out["crop_bbox"])
    assert 0 <= left < right <= imgs_in.shape[-1] and 0 <= top < bottom <= imgs_in.shape[-2]
    expected = imgs_in[..., top:bottom, left:right]
    assert torch.equal(out["imgs"].as_subclass(torch.Tensor), expected.as_subclass(torch.Tensor))
    return left, top, right, bottom


def test_random_resized_crop_one_box_per_clip():
    np.random.seed(0)
    imgs = clip(6, 48, 64)
    areas, ratios = [], []
    for _ in range(50):
        out = apply(dict(type="RandomResizedCrop", area_range=(0.08, 1.0), aspect_ratio_range=(3 / 4, 4 / 3)), imgs)
        left, top, right, bottom = assert_same_box_in_every_frame(imgs, out)
        w, h = right - left, bottom - top
        areas.append(w * h / (48 * 64))
        ratios.append(w / h)
    assert len(set(areas)) > 10  # random
    assert min(areas) >= 0.05 and max(areas) <= 1.0
    assert 0.6 <= min(ratios) and max(ratios) <= 1.7  # 3/4 .. 4/3, up to rounding on small boxes


def test_random_crop_and_multi_scale_crop_one_box_per_clip():
    np.random.seed(1)
    import random

    random.seed(1)
    imgs = clip(4, 48, 64)
    for _ in range(10):
        out = apply(dict(type="RandomCrop", size=32), imgs)
        l, t, r, b = assert_same_box_in_every_frame(imgs, out)
        assert (r - l, b - t) == (32, 32)
    scales = (1, 0.875, 0.75, 0.66)
    sides = {int(48 * s) for s in scales}
    for fixed in (5, 13):
        for _ in range(20):
            out = apply(dict(type="MultiScaleCrop", input_size=32, scales=scales, random_crop=False,
                             max_wh_scale_gap=1, num_fixed_crops=fixed), imgs)
            l, t, r, b = assert_same_box_in_every_frame(imgs, out)
            assert r - l in sides | {32} and b - t in sides | {32}
            assert l % max((64 - (r - l)) // 4, 1) == 0 and t % max((48 - (b - t)) // 4, 1) == 0  # on the 4x4 grid


def test_crop_larger_than_the_frame_is_a_clear_error():
    with pytest.raises(ValueError, match=r"larger than the frames .* 'x.mp4'"):
        apply(dict(type="CenterCrop", crop_size=64), clip(2, 48, 64))


# --------------------------------------------------------------------------- fixed crops
def test_center_crop_position():
    imgs = clip(3, 48, 64)
    out = apply(dict(type="CenterCrop", crop_size=(40, 32)), imgs)
    assert_video(out, (3, 3, 32, 40))
    assert out["crop_bbox"].tolist() == [12, 8, 52, 40]
    assert_same_box_in_every_frame(imgs, out)


@pytest.mark.parametrize("hw,crop", [((48, 64), 48), ((64, 48), 48), ((48, 48), 48)])
def test_three_crop_views(hw, crop):
    h, w = hw
    n = 4
    imgs = clip(n, h, w)
    out = apply(dict(type="ThreeCrop", crop_size=crop), imgs)
    views = assert_video(out, (3 * n, 3, crop, crop))
    assert out["num_crops"] == 3
    long_side = max(h, w)
    step = (long_side - crop) // 2
    starts = [0, 2 * step, step]  # MMAction2's order: left/top, right/bottom, middle
    for v, s in enumerate(starts):
        expected = imgs[..., :, s : s + crop] if w >= h else imgs[..., s : s + crop, :]
        assert torch.equal(views[v * n : (v + 1) * n].as_subclass(torch.Tensor), expected.as_subclass(torch.Tensor))


def test_three_crop_needs_a_matching_side():
    with pytest.raises(ValueError, match="must match the frame width or height"):
        apply(dict(type="ThreeCrop", crop_size=32), clip(2, 48, 64))


def test_ten_crop_views():
    n, h, w, c = 2, 48, 64, 32
    imgs = clip(n, h, w)
    out = apply(dict(type="TenCrop", crop_size=c), imgs)
    views = assert_video(out, (10 * n, 3, c, c)).as_subclass(torch.Tensor)
    assert out["num_crops"] == 10
    ws, hs = (w - c) // 4, (h - c) // 4
    corners = [(0, 0), (4 * ws, 0), (0, 4 * hs), (4 * ws, 4 * hs), (2 * ws, 2 * hs)]
    for i, (x, y) in enumerate(corners):
        crop = imgs[..., y : y + c, x : x + c].as_subclass(torch.Tensor)
        assert torch.equal(views[2 * i * n : (2 * i + 1) * n], crop)
        assert torch.equal(views[(2 * i + 1) * n : (2 * i + 2) * n], crop.flip(-1))


def test_multi_view_crops_then_format_shape():
    """3 clips x ThreeCrop -> 9 views of (C, T, H, W) for the model."""
    imgs = clip(3 * 4, 32, 48)
    results = apply(dict(type="ThreeCrop", crop_size=32), imgs, clip_len=4, num_clips=3)
    results = TRANSFORMS.build(dict(type="FormatShape", input_format="NCTHW"))(results)
    assert tuple(results["imgs"].shape) == (9, 3, 4, 32, 32) and results["num_crops"] == 3
