"""Each config named like an original AIM file holds the experiment of that original file.

The table below was written by reading the 8 CLIP configs of the original repository
(taoyang1122/adapt-image-models, ``configs/recognition/vit/vitclip_{base,large}_{k400,k700,sthv2,diving48}.py``,
mmaction2 0.x style) and their ``_base_`` files; no code or text of them is used. What those files
hold that is common to all 8 is in ``COMMON``; what differs is in ``ORIGINAL``:

- ``sampler``: ``'dense'`` (``SampleFrames``) or ``'uniform'`` (``SampleFrames(frame_uniform=True)``,
  whose ``frame_interval`` the original ignores; ours is ``UniformSample``).
- ``test_views``: (clips, crops) of the test pipeline (``ThreeCrop`` = 3 crops, ``CenterCrop`` = 1).
- ``custom_keys``: the original optimizer's ``paramwise_cfg.custom_keys``, key -> (lr_mult, decay_mult).

Each file's effective settings are read from the loaded config and, for the optimizer, from the
parameter groups that mmengine builds for a shrunken model, compared with the groups the original
rule gives (mmcv's ``DefaultOptimizerConstructor``: the longest custom key found in a parameter's
name sets its lr_mult and decay_mult), computed here.
"""

import copy
from pathlib import Path
from typing import Dict, Tuple

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper

from mmaction.registry import MODELS

REPO_ROOT = Path(__file__).resolve().parents[2]
CONFIG_DIR = REPO_ROOT / "configs" / "recognition" / "vit"

NO_DECAY = {key: (1.0, 0.0) for key in
            ("class_embedding", "positional_embedding", "ln_1", "ln_2", "ln_pre", "ln_post")}
BACKBONE_LR_01 = dict(NO_DECAY, backbone=(0.1, 1.0))

COMMON = dict(
    lr=3e-4, betas=(0.9, 0.999), weight_decay=0.05,  # AdamW
    warmup_epochs=2.5, warmup_start_factor=0.1,  # lr_config warmup='linear', warmup_iters=2.5 by epoch (ratio 0.1)
    eta_min=0,  # CosineAnnealing, min_lr=0
    batch_per_gpu=8, test_batch_per_gpu=1, val_interval=5,
    drop_path_rate=0.2, input_resolution=224,
    mean=[122.769, 116.74, 104.04], std=[68.493, 66.63, 70.321],
    train_resize=(-1, 256), test_resize=(-1, 224), crop=224,
)
ORIGINAL: Dict[str, dict] = {
    "vitclip_base_k400.py": dict(
        backbone="base", num_classes=400, sampler="dense", clip_len=32, frame_interval=4, test_views=(3, 1),
        epochs=30, adapter_scale=0.5, num_tadapter=1, label_smoothing=0.0, flip=0.5, randaugment=None,
        random_erasing=None, custom_keys=NO_DECAY),
    "vitclip_base_k700.py": dict(
        backbone="base", num_classes=700, sampler="dense", clip_len=8, frame_interval=16, test_views=(3, 3),
        epochs=30, adapter_scale=0.5, num_tadapter=1, label_smoothing=0.0, flip=0.5, randaugment=None,
        random_erasing=None, custom_keys=NO_DECAY),
    "vitclip_base_sthv2.py": dict(
        backbone="base", num_classes=174, sampler="uniform", clip_len=8, frame_interval=None, test_views=(1, 3),
        epochs=50, adapter_scale=1.0, num_tadapter=2, label_smoothing=0.1, flip=None, randaugment=(4, 7),
        random_erasing=0.25, custom_keys=NO_DECAY),
    "vitclip_base_diving48.py": dict(
        backbone="base", num_classes=48, sampler="uniform", clip_len=32, frame_interval=None, test_views=(1, 3),
        epochs=50, adapter_scale=0.5, num_tadapter=1, label_smoothing=0.0, flip=0.5, randaugment=None,
        random_erasing=None, custom_keys=NO_DECAY),
    "vitclip_large_k400.py": dict(
        backbone="large", num_classes=400, sampler="dense", clip_len=32, frame_interval=4, test_views=(3, 1),
        epochs=30, adapter_scale=0.5, num_tadapter=1, label_smoothing=0.0, flip=0.5, randaugment=None,
        random_erasing=None, custom_keys=BACKBONE_LR_01),
    "vitclip_large_k700.py": dict(
        backbone="large", num_classes=700, sampler="dense", clip_len=32, frame_interval=4, test_views=(3, 3),
        epochs=30, adapter_scale=0.5, num_tadapter=1, label_smoothing=0.0, flip=0.5, randaugment=None,
        random_erasing=None, custom_keys=NO_DECAY),
    "vitclip_large_sthv2.py": dict(
        backbone="large", num_classes=174, sampler="uniform", clip_len=8, frame_interval=None, test_views=(1, 3),
        epochs=50, adapter_scale=1.0, num_tadapter=1, label_smoothing=0.1, flip=None, randaugment=(4, 7),
        random_erasing=0.25, custom_keys=BACKBONE_LR_01),
    "vitclip_large_diving48.py": dict(
        backbone="large", num_classes=48, sampler="uniform", clip_len=32, frame_interval=None, test_views=(1, 1),
        epochs=50, adapter_scale=0.5, num_tadapter=1, label_smoothing=0.0, flip=0.5, randaugment=None,
        random_erasing=None, custom_keys=NO_DECAY),
}
BACKBONES = {
    "base": dict(width=768, layers=12, heads=12, patch_size=16),
    "large": dict(width=1024, layers=24, heads=16, patch_size=14),
}
CROPS = {"ThreeCrop": 3, "TenCrop": 10, "CenterCrop": 1}
SAMPLERS = {"dense": "SampleFrames", "uniform": "UniformSample"}


def load(name: str) -> Config:
    return Config.fromfile(str(CONFIG_DIR / name))


def only(pipeline, kind: str) -> dict:
    steps = [step for step in pipeline if step["type"] == kind]
    assert len(steps) == 1, f"expected one {kind} in {[s['type'] for s in pipeline]}"
    return steps[0]


def types(pipeline):
    return [step["type"] for step in pipeline]


def test_the_table_covers_every_original_clip_config():
    assert sorted(ORIGINAL) == sorted(
        f"vitclip_{b}_{d}.py" for b in ("base", "large") for d in ("k400", "k700", "sthv2", "diving48"))
    for name in ORIGINAL:
        assert (CONFIG_DIR / name).is_file(), name


@pytest.mark.parametrize("name", sorted(ORIGINAL))
def test_model_matches_the_original(name):
    want, cfg = ORIGINAL[name], load(name)
    bb, head = cfg.model.backbone, cfg.model.cls_head
    for key, value in BACKBONES[want["backbone"]].items():
        assert bb[key] == value, (name, key, bb[key])
    assert bb.num_frames == want["clip_len"]
    assert bb.input_resolution == COMMON["input_resolution"]
    assert bb.drop_path_rate == COMMON["drop_path_rate"]
    assert (bb.adapter_scale, bb.num_tadapter) == (want["adapter_scale"], want["num_tadapter"])
    assert (head.num_classes, head.in_channels) == (want["num_classes"], bb.width)
    assert head.get("label_smooth_eps", 0.0) == want["label_smoothing"]
    assert cfg.model.test_cfg.average_clips == "prob"
    assert cfg.model.data_preprocessor.mean == COMMON["mean"] and cfg.model.data_preprocessor.std == COMMON["std"]


@pytest.mark.parametrize("name", sorted(ORIGINAL))
def test_sampling_views_and_augmentation_match_the_original(name):
    want, cfg = ORIGINAL[name], load(name)
    pipelines = {split: cfg[f"{split}_dataloader"].dataset.pipeline for split in ("train", "val", "test")}
    for split, pipeline in pipelines.items():
        step = only(pipeline, SAMPLERS[want["sampler"]])
        assert step["clip_len"] == want["clip_len"], (split, step)
        assert step.get("frame_interval") == want["frame_interval"], (split, step)
        assert bool(step.get("test_mode", False)) == (split != "train"), (split, step)
        if split != "test":
            assert step.get("num_clips", 1) == 1, (split, step)
    test = pipelines["test"]
    clips = only(test, SAMPLERS[want["sampler"]]).get("num_clips", 1)
    crop_steps = [step for step in test if step["type"] in CROPS]
    assert len(crop_steps) == 1, types(test)
    assert (clips, CROPS[crop_steps[0]["type"]]) == want["test_views"]
    assert crop_steps[0]["crop_size"] == COMMON["crop"]
    assert only(test, "Resize")["scale"] == COMMON["test_resize"]
    val = pipelines["val"]
    assert only(val, "CenterCrop")["crop_size"] == COMMON["crop"]

    train = pipelines["train"]
    train_types = types(train)
    resizes = [step for step in train if step["type"] == "Resize"]
    assert resizes[0]["scale"] == COMMON["train_resize"]
    assert resizes[1]["scale"] == (COMMON["crop"], COMMON["crop"]) and resizes[1]["keep_ratio"] is False
    assert "RandomResizedCrop" in train_types
    assert train_types.index("Resize") < train_types.index("RandomResizedCrop") < len(train_types) - 1
    flips = [step for step in train if step["type"] == "Flip"]
    assert [step["flip_ratio"] for step in flips] == ([want["flip"]] if want["flip"] else [])
    rand = [step for step in train if step["type"] == "RandAugment"]
    assert [(step["n"], step["m"]) for step in rand] == ([want["randaugment"]] if want["randaugment"] else [])
    erasing = [step for step in train if step["type"] == "RandomErasing"]
    assert [step["probability"] for step in erasing] == ([want["random_erasing"]] if want["random_erasing"] else [])
    assert "ColorJitter" not in train_types  # no original CLIP file jitters colours
    assert train_types[-2:] == ["FormatShape", "PackActionInputs"]


@pytest.mark.parametrize("name", sorted(ORIGINAL))
def test_schedule_and_batch_match_the_original(name):
    want, cfg = ORIGINAL[name], load(name)
    assert cfg.train_cfg.max_epochs == want["epochs"] and cfg.train_cfg.val_interval == COMMON["val_interval"]
    assert cfg.train_dataloader.batch_size == COMMON["batch_per_gpu"]
    assert cfg.test_dataloader.batch_size == COMMON["test_batch_per_gpu"]
    optimizer = cfg.optim_wrapper.optimizer
    assert optimizer.type == "AdamW"
    assert (optimizer.lr, tuple(optimizer.betas), optimizer.weight_decay) == (
        COMMON["lr"], COMMON["betas"], COMMON["weight_decay"])
    warmup, cosine = cfg.param_scheduler
    assert warmup.type == "LinearLR" and warmup.by_epoch and warmup.convert_to_iter_based
    assert (warmup.begin, warmup.end, warmup.start_factor, warmup.end_factor) == (
        0, COMMON["warmup_epochs"], COMMON["warmup_start_factor"], 1.0)
    assert cosine.type == "CosineAnnealingLR" and cosine.by_epoch and cosine.convert_to_iter_based
    assert (cosine.begin, cosine.end, cosine.T_max, cosine.eta_min) == (0, want["epochs"], want["epochs"],
                                                                        COMMON["eta_min"])
    keys = {key: (value.get("lr_mult", 1.0), value.get("decay_mult", 1.0))
            for key, value in cfg.optim_wrapper.paramwise_cfg.custom_keys.items()}
    assert keys == want["custom_keys"]


def original_rule(name: str, custom_keys: Dict[str, Tuple[float, float]]) -> Tuple[float, float]:
    """(lr, weight decay) of a parameter as the original's optimizer constructor sets them."""
    matches = [key for key in custom_keys if key in name]
    if not matches:
        return COMMON["lr"], COMMON["weight_decay"]
    lr_mult, decay_mult = custom_keys[max(matches, key=len)]
    return COMMON["lr"] * lr_mult, COMMON["weight_decay"] * decay_mult


@pytest.mark.parametrize("name", sorted(ORIGINAL))
def test_optimizer_groups_match_the_original(name):
    """The groups mmengine builds from the config give each tunable parameter the original's lr and decay."""
    want, cfg = ORIGINAL[name], load(name)
    cfg.model.backbone.update(width=64, layers=2, heads=2, input_resolution=2 * cfg.model.backbone.patch_size)
    cfg.model.cls_head.in_channels = 64
    model = MODELS.build(cfg.model)
    optim_wrapper = build_optim_wrapper(model, copy.deepcopy(cfg.optim_wrapper))
    by_id = {id(p): group for group in optim_wrapper.optimizer.param_groups for p in group["params"]}
    tunable = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    assert {"backbone.ln_post.weight", "backbone.temporal_embedding", "cls_head.fc_cls.weight"} <= {
        n for n, _ in tunable}
    for param_name, param in tunable:
        group = by_id[id(param)]
        lr, wd = original_rule(param_name, want["custom_keys"])
        assert (group["lr"], group["weight_decay"]) == (pytest.approx(lr), pytest.approx(wd)), param_name
    if want["custom_keys"] is BACKBONE_LR_01:  # what the rule means here, said plainly
        assert original_rule("backbone.ln_post.weight", want["custom_keys"]) == (pytest.approx(3e-5), 0.05)


@pytest.mark.parametrize("name", sorted(ORIGINAL))
def test_original_config_trains_one_step(name):
    """Built with a shrunken backbone, the config's model takes one loss step on its own clip shape."""
    want, cfg = ORIGINAL[name], load(name)
    cfg.model.backbone.update(width=32, layers=1, heads=2, input_resolution=2 * cfg.model.backbone.patch_size)
    cfg.model.cls_head.in_channels = 32
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    optim_wrapper = build_optim_wrapper(model, copy.deepcopy(cfg.optim_wrapper))
    from mmaction.structures import ActionDataSample

    side = cfg.model.backbone.input_resolution
    data = dict(inputs=[torch.randint(0, 256, (1, 3, want["clip_len"], side, side), dtype=torch.uint8)
                        for _ in range(2)],
                data_samples=[ActionDataSample().set_gt_label(i) for i in range(2)])
    before = {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}
    log = model.train_step(data, optim_wrapper)
    assert torch.isfinite(log["loss"])
    changed = [n for n, p in model.named_parameters() if p.requires_grad and not torch.equal(p, before[n])]
    assert "cls_head.fc_cls.weight" in changed
