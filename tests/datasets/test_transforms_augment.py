"""Flip, ColorJitter, RandAugment (and the legacy ``Imgaug``), RandomErasing.

A clip must get ONE draw of the random parameters: a clip whose frames are all the same picture
must come out with all frames the same, whatever the draw, while different draws must differ
(the step is really random). Frames stay uint8.
"""

import numpy as np
import pytest
import torch
from torchvision import tv_tensors

from mmaction.registry import TRANSFORMS

SEEDS = range(8)


def still_clip(n: int = 4, h: int = 32, w: int = 40, seed: int = 0) -> tv_tensors.Video:
    """n copies of one random picture (with some structure, so geometric ops change it)."""
    gen = torch.Generator().manual_seed(seed)
    picture = torch.randint(0, 256, (3, h, w), dtype=torch.uint8, generator=gen)
    picture[:, : h // 2, : w // 3] = torch.tensor([200, 30, 60], dtype=torch.uint8).view(3, 1, 1)
    return tv_tensors.Video(picture.expand(n, 3, h, w).contiguous())


def run(cfg: dict, imgs, seed: int, **extra) -> dict:
    np.random.seed(seed)
    torch.manual_seed(seed)
    import random

    random.seed(seed)
    return TRANSFORMS.build(cfg)(dict(imgs=imgs, filename="x.mp4", **extra))


def check_one_draw_per_clip(cfg: dict, min_changed: int = 1, **extra) -> None:
    """Same output on every frame for every seed; the output changes with the seed."""
    imgs = still_clip()
    outputs = []
    for seed in SEEDS:
        out = run(cfg, imgs, seed, **extra)["imgs"]
        assert isinstance(out, torch.Tensor) and out.dtype == torch.uint8
        assert tuple(out.shape) == tuple(imgs.shape)
        frames = out.as_subclass(torch.Tensor)
        assert all(torch.equal(frames[0], f) for f in frames[1:]), f"{cfg['type']}: frames differ (seed {seed})"
        outputs.append(frames[0])
    changed = sum(not torch.equal(o, imgs[0].as_subclass(torch.Tensor)) for o in outputs)
    assert changed >= min_changed
    assert len({o.numpy().tobytes() for o in outputs}) > 1, f"{cfg['type']} is not random"


def test_flip_whole_clip():
    imgs = still_clip()
    flipped = 0
    for seed in SEEDS:
        out = run(dict(type="Flip", flip_ratio=0.5), imgs, seed)
        frames = out["imgs"].as_subclass(torch.Tensor)
        expected = imgs.as_subclass(torch.Tensor).flip(-1) if out["flip"] else imgs.as_subclass(torch.Tensor)
        assert torch.equal(frames, expected) and frames.dtype == torch.uint8
        assert out["flip_direction"] == "horizontal"
        flipped += out["flip"]
    assert 0 < flipped < len(SEEDS)


def test_flip_vertical_and_label_map():
    imgs = still_clip()
    out = run(dict(type="Flip", flip_ratio=1.0, direction="vertical", flip_label_map={86: 87, 87: 86}), imgs, 0,
              label=86)
    assert torch.equal(out["imgs"].as_subclass(torch.Tensor), imgs.as_subclass(torch.Tensor).flip(-2))
    assert out["label"] == 87
    out = run(dict(type="Flip", flip_ratio=0.0), imgs, 0, label=86)
    assert out["label"] == 86 and out["flip"] is False


@pytest.mark.parametrize(
    "cfg",
    [
        dict(type="ColorJitter", brightness=0.4, contrast=0.4, saturation=0.4, hue=0.1),
        dict(type="ColorJitter"),  # AIM / MMAction2 0.x: PCA lighting noise
        dict(type="ColorJitter", color_space_aug=True),
    ],
    ids=["modern", "pca", "pca+color_space"],
)
def test_color_jitter_one_draw_per_clip(cfg):
    check_one_draw_per_clip(cfg, min_changed=len(SEEDS) // 2)


def test_pca_lighting_is_a_constant_offset_per_channel():
    imgs = tv_tensors.Video(torch.full((4, 3, 8, 8), 128, dtype=torch.uint8))
    out = run(dict(type="ColorJitter", alpha_std=0.1), imgs, 3)["imgs"].as_subclass(torch.Tensor).int()
    offsets = out - 128
    for c in range(3):
        assert offsets[:, c].unique().numel() == 1  # same RGB shift on every pixel of every frame
    assert offsets.abs().sum() > 0


def test_rand_augment_one_draw_per_clip():
    check_one_draw_per_clip(dict(type="RandAugment", n=4, m=7), min_changed=len(SEEDS) // 2)


def test_rand_augment_names():
    a = TRANSFORMS.build(dict(type="RandAugment", n=4, m=7))
    b = TRANSFORMS.build(dict(type="RandAugment", num_ops=4, magnitude=7))
    assert (a.n, a.m) == (b.n, b.m) == (4, 7)
    with pytest.raises(ValueError, match="disagree"):
        TRANSFORMS.build(dict(type="RandAugment", n=2, num_ops=3))
    with pytest.raises(ValueError, match="m=31"):
        TRANSFORMS.build(dict(type="RandAugment", m=31))


def test_legacy_imgaug_spelling_of_aim_sthv2():
    """AIM's SSv2 config: dict(type='Imgaug', transforms=[dict(type='RandAugment', n=4, m=7)])."""
    cfg = dict(type="Imgaug", transforms=[dict(type="RandAugment", n=4, m=7)])
    step = TRANSFORMS.build(cfg)
    assert [(s.n, s.m) for s in step.steps] == [(4, 7)]
    check_one_draw_per_clip(cfg, min_changed=len(SEEDS) // 2)
    default = TRANSFORMS.build(dict(type="Imgaug", transforms="default"))
    assert len(default.steps) == 1
    with pytest.raises(ValueError, match="'Fliplr'"):
        TRANSFORMS.build(dict(type="Imgaug", transforms=[dict(type="Fliplr", p=0.5)]))


@pytest.mark.parametrize("mode", ["const", "rand", "pixel"])
def test_random_erasing_one_box_per_clip(mode):
    imgs = still_clip()
    changed = 0
    for seed in SEEDS:
        out = run(dict(type="RandomErasing", probability=1.0, mode=mode), imgs, seed)["imgs"]
        frames = out.as_subclass(torch.Tensor)
        assert frames.dtype == torch.uint8 and frames.shape == imgs.shape
        assert all(torch.equal(frames[0], f) for f in frames[1:])
        diff = (frames[0] != imgs[0].as_subclass(torch.Tensor)).any(0)
        if diff.any():
            changed += 1
            rows, cols = diff.nonzero(as_tuple=True)
            box = diff[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
            assert box.float().mean() > 0.5  # one rectangle (pixels equal by chance aside)
    assert changed >= len(SEEDS) // 2


def test_random_erasing_const_writes_the_normalize_mean():
    imgs = tv_tensors.Video(torch.zeros((2, 3, 32, 32), dtype=torch.uint8))
    mean = [10.0, 100.0, 200.0]
    results = dict(imgs=imgs, img_norm_cfg=dict(mean=mean, std=[1.0, 1.0, 1.0]))
    np.random.seed(0)
    out = TRANSFORMS.build(dict(type="RandomErasing", probability=1.0, mode="const"))(results)["imgs"]
    erased = (out.as_subclass(torch.Tensor) != 0).any(1)[0]
    assert erased.any()
    values = out[0][:, erased].T.unique(dim=0)
    assert values.tolist() == [[10, 100, 200]]


def test_random_erasing_probability_zero_is_identity():
    imgs = still_clip()
    out = run(dict(type="RandomErasing", probability=0.0), imgs, 0)["imgs"]
    assert out is imgs
