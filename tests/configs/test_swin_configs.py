"""Every config in configs/recognition/swin/ loads, builds and says what its file name says; one
trains an epoch on tiny CPU data through tools/train.py (its recipe kept, the model and frames shrunk).

File names follow ``swin2d_adapter_base_{dataset}_{T}x{interval}x{clips}_{views}views.py`` (dense
sampling) or ``swin2d_adapter_base_{dataset}_u{T}_{views}views.py`` (uniform sampling); the original
AIM names are one-line aliases of one of those (see configs/recognition/swin/README.md).
"""

import copy
import re
from pathlib import Path
from typing import Dict, List

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper

from mmaction.engine.runner.config_check import check_config_types
from mmaction.registry import MODELS, TRANSFORMS
from tests.engine.engine_testkit import describe, make_video_set, python_tool, read_scalars, run_tool

REPO_ROOT = Path(__file__).resolve().parents[2]
CONFIG_DIR = REPO_ROOT / "configs" / "recognition" / "swin"

NAME_RE = re.compile(
    r"^swin2d_adapter_base_(?P<dataset>k400|sthv2)_"
    r"(?:(?P<clip_len>\d+)x(?P<interval>\d+)x(?P<clips>\d+)|u(?P<uniform>\d+))_(?P<views>\d+)views?\.py$"
)
ALIASES = {
    "swin2d_adapter_patch244_window7_kinetics400_1k.py": "swin2d_adapter_base_k400_32x2x1_12views.py",
    "swin2d_adapter_patch244_window7_sthv2_1k.py": "swin2d_adapter_base_sthv2_u32_3views.py",
}
SWIN_B = dict(embed_dim=128, depths=[2, 2, 18, 2], num_heads=[4, 8, 16, 32], window_size=7,
              patch_size=(2, 4, 4), img_size=224)
# The original configs' recipe per dataset.
RECIPE = {
    "k400": dict(classes=400, epochs=30, lr=1e-3, accumulate=2, drop_path=0.2, smooth=0.0, test_views=4),
    "sthv2": dict(classes=174, epochs=60, lr=3e-4, accumulate=4, drop_path=0.4, smooth=0.1, test_views=2),
}
CROPS = {"ThreeCrop": 3, "TenCrop": 10}
SAMPLERS = ("SampleFrames", "UniformSample")

CONFIG_FILES = sorted(p.name for p in CONFIG_DIR.glob("*.py"))
ROW_FILES = [name for name in CONFIG_FILES if NAME_RE.match(name)]
_CFG_CACHE: Dict[str, Config] = {}


def load(name: str) -> Config:
    if name not in _CFG_CACHE:
        _CFG_CACHE[name] = Config.fromfile(str(CONFIG_DIR / name))
    return copy.deepcopy(_CFG_CACHE[name])


def sampler(pipeline: List[dict]) -> dict:
    steps = [step for step in pipeline if step["type"] in SAMPLERS]
    assert len(steps) == 1, [s["type"] for s in pipeline]
    return steps[0]


def crops(pipeline: List[dict]) -> int:
    return max([CROPS.get(step["type"], 1) for step in pipeline])


def test_config_folder_is_complete():
    assert len(ROW_FILES) == 2, ROW_FILES
    readme = (CONFIG_DIR / "README.md").read_text()
    for name in CONFIG_FILES:
        assert NAME_RE.match(name) or name in ALIASES, f"{name}: neither a row config nor a known alias"
        assert name in readme, f"configs/recognition/swin/README.md does not mention {name}"
    for alias, target in ALIASES.items():
        assert f"_base_ = ['./{target}']" in (CONFIG_DIR / alias).read_text()
        assert load(alias).to_dict() == load(target).to_dict()


@pytest.mark.parametrize("name", ROW_FILES)
def test_sampling_views_and_recipe(name):
    parts = NAME_RE.match(name).groupdict()
    recipe = RECIPE[parts["dataset"]]
    cfg = load(name)
    clip_len = int(parts["clip_len"] or parts["uniform"])
    bb, head = cfg.model.backbone, cfg.model.cls_head
    assert bb.type == "SwinTransformer2D_Adapter" and bb.num_frames == clip_len
    for key, value in SWIN_B.items():
        assert bb[key] == value, (key, bb[key])
    assert (bb.tuning, bb.pretrained, bb.t_relative, bb.frozen_stages) == ("adapter", None, True, -1)
    assert bb.drop_path_rate == recipe["drop_path"] and bb.adapter_scale == 0.5
    assert (head.type, head.in_channels, head.num_classes) == ("I3DHead", 1024, recipe["classes"])
    assert head.label_smooth_eps == recipe["smooth"] and head.dropout_ratio == 0.5
    assert cfg.model.data_preprocessor.mean == [123.675, 116.28, 103.53]  # ImageNet, the Swin weights'
    assert cfg.model.data_preprocessor.std == [58.395, 57.12, 57.375]
    assert cfg.model.test_cfg == dict(average_clips="prob", max_testing_views=recipe["test_views"])
    pipelines = {"train": cfg.train_dataloader.dataset.pipeline, "val": cfg.val_dataloader.dataset.pipeline,
                 "test": cfg.test_dataloader.dataset.pipeline}
    for split, pipeline in pipelines.items():
        step = sampler(pipeline)
        assert step["clip_len"] == clip_len and bool(step.get("test_mode", False)) == (split != "train")
        if parts["uniform"]:
            assert step["type"] == "UniformSample"
        else:
            assert step["type"] == "SampleFrames" and step["frame_interval"] == int(parts["interval"])
    assert sampler(pipelines["val"]).get("num_clips", 1) * crops(pipelines["val"]) == 1
    test_views = sampler(pipelines["test"]).get("num_clips", 1) * crops(pipelines["test"])
    assert test_views == int(parts["views"])
    train_types = [s["type"] for s in pipelines["train"]]
    if parts["dataset"] == "sthv2":
        assert "Flip" not in train_types and {"RandAugment", "RandomErasing"} <= set(train_types)
    else:
        assert next(s for s in pipelines["train"] if s["type"] == "Flip")["flip_ratio"] == 0.5
    assert cfg.train_cfg.max_epochs == recipe["epochs"] and cfg.train_cfg.val_interval == 5
    cosine = next(s for s in cfg.param_scheduler if s["type"] == "CosineAnnealingLR")
    assert cosine["T_max"] == cosine["end"] == recipe["epochs"]
    ow = cfg.optim_wrapper
    assert (ow.type, ow.dtype) == ("MixedPrecisionOptimWrapper", "bfloat16")
    assert ow.accumulative_counts == recipe["accumulate"]
    assert (ow.optimizer.type, ow.optimizer.lr, ow.optimizer.weight_decay) == ("AdamW", recipe["lr"], 0.05)
    assert ow.paramwise_cfg == dict(custom_keys={
        "absolute_pos_embed": dict(decay_mult=0.0), "relative_position_bias_table": dict(decay_mult=0.0),
        "norm": dict(decay_mult=0.0), "backbone": dict(lr_mult=0.1)})


@pytest.mark.parametrize("name", CONFIG_FILES)
def test_pipelines_and_full_size_model_build(name):
    cfg = load(name)
    check_config_types(cfg)  # every type= name anywhere in the config is registered
    for pipeline in (cfg.train_pipeline, cfg.val_pipeline, cfg.test_pipeline):
        for step in pipeline:
            assert callable(TRANSFORMS.build(copy.deepcopy(step))), step
    with torch.device("meta"):
        model = MODELS.build(cfg.model)
    state = model.state_dict()
    assert state["backbone.patch_embed.proj.weight"].shape == (128, 3, 2, 4, 4)
    assert state["backbone.layers.2.blocks.17.attn.relative_position_bias_table"].shape == (169, 16)
    assert state["backbone.layers.2.blocks.16.attn.temporal_position_bias_table"].shape == (31, 16)
    assert "backbone.layers.2.blocks.17.T_Adapter.D_fc1.weight" not in state
    total = sum(p.numel() for p in model.parameters())
    head = 1024 * cfg.model.cls_head.num_classes + cfg.model.cls_head.num_classes
    assert round((total - head + 1024 * 400 + 400) / 1e6, 2) == 95.93  # with a 400-class head
    tunable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    assert round((tunable - head) / 1e6, 2) == 8.76  # the adapters


@pytest.mark.parametrize("name", ROW_FILES)
def test_optimizer_groups_follow_the_original_keys(name):
    """Longest key wins: adapters at 0.1 x lr with decay, head at lr; nothing frozen is optimised."""
    cfg = load(name)
    cfg.model.backbone.update(embed_dim=16, depths=[2, 1], num_heads=[1, 2], img_size=32, window_size=2, num_frames=4)
    cfg.model.cls_head.in_channels = 32
    model = MODELS.build(cfg.model)
    wrapper = build_optim_wrapper(model, copy.deepcopy(cfg.optim_wrapper))
    lr = cfg.optim_wrapper.optimizer.lr
    params = dict(model.named_parameters())
    groups = {id(p): g for g in wrapper.optimizer.param_groups for p in g["params"]}
    assert set(groups) == {id(p) for p in params.values() if p.requires_grad}
    for key in ("backbone.layers.0.blocks.0.T_Adapter.D_fc1.weight",
                "backbone.layers.1.blocks.0.S_Adapter2.D_fc2.bias"):
        group = groups[id(params[key])]
        assert (group["lr"], group["weight_decay"]) == pytest.approx((0.1 * lr, 0.05)), key
    head = groups[id(params["cls_head.fc_cls.weight"])]
    assert (head["lr"], head["weight_decay"]) == pytest.approx((lr, 0.05))


# ---------------------------------------------------------------------------------------------
# One epoch through tools/train.py: the K400 config's recipe (optimizer, accumulation, schedule,
# hooks, runtime) with a tiny Swin and 32 px, 4-frame clips.
TINY_RUN = """
_base_ = ['{config}']
model = dict(
    backbone=dict(img_size=32, num_frames=4, embed_dim=16, depths=[2, 2], num_heads=[1, 2], window_size=2),
    cls_head=dict(num_classes=3, in_channels=32))
sampling = dict(clip_len=4, frame_interval=1)
sizes = {{256: 36, 224: 32}}


def shrink(step):
    step = dict(step)
    if step['type'] == 'SampleFrames':
        step.update(sampling)
    if 'scale' in step:
        step['scale'] = tuple(sizes.get(s, s) for s in step['scale'])
    if 'crop_size' in step:
        step['crop_size'] = sizes[step['crop_size']]
    return step


train_pipeline = [shrink(s) for s in _base_.train_pipeline]
val_pipeline = [shrink(s) for s in _base_.val_pipeline]
test_pipeline = [shrink(s) for s in _base_.test_pipeline]
loader = dict(num_workers=0, persistent_workers=False, pin_memory=False)
train_dataloader = dict(batch_size=2, **loader,
                        dataset=dict(ann_file='{train}', data_prefix=dict(video='{root}'), pipeline=train_pipeline))
val_dataloader = dict(batch_size=2, **loader,
                      dataset=dict(ann_file='{val}', data_prefix=dict(video='{root}'), pipeline=val_pipeline))
test_dataloader = dict(batch_size=1, **loader,
                       dataset=dict(ann_file='{val}', data_prefix=dict(video='{root}'), pipeline=test_pipeline))
train_cfg = dict(max_epochs=1, val_interval=1)
default_hooks = dict(logger=dict(interval=1))
allow_random_backbone = True  # tiny random image model on purpose
"""


@pytest.mark.slow
def test_k400_config_trains_one_epoch_on_tiny_data(tmp_path):
    root = tmp_path / "videos"
    train = make_video_set(root, "train", 4, seed=0)
    val = make_video_set(root, "val", 3, seed=1)
    config = tmp_path / "swin_tiny_k400.py"
    config.write_text(TINY_RUN.format(config=CONFIG_DIR / "swin2d_adapter_patch244_window7_kinetics400_1k.py",
                                      train=train, val=val, root=root))
    work_dir = tmp_path / "work"
    proc = run_tool(python_tool("train.py", str(config), "--validate", "--test-last", "--seed", "0",
                                "--work-dir", str(work_dir)), timeout=600)
    assert proc.returncode == 0, describe(proc)
    assert (work_dir / "epoch_1.pth").is_file()
    state = torch.load(str(work_dir / "epoch_1.pth"), map_location="cpu", weights_only=True)["state_dict"]
    # what trained moved, what is frozen did not: adapters' zero-initialised D_fc2 and the head changed
    assert state["backbone.layers.0.blocks.0.T_Adapter.D_fc2.weight"].abs().sum() > 0
    assert state["backbone.layers.1.blocks.1.S_Adapter.D_fc2.weight"].abs().sum() > 0
    assert state["backbone.patch_embed.proj.weight"].shape == (16, 3, 2, 4, 4)
    scalars = read_scalars(work_dir)
    assert any("acc/top1" in s for s in scalars), scalars[-3:]


# ---------------------------------------------------------------------------------------------
# tools/analysis/get_flops.py on the Swin configs, against a count derived here from the architecture.
def swin_macs(frames: int, img: int, embed: int, depths, window: int, classes: int) -> int:
    """Multiply-adds of one view (1, 3, frames, img, img) through SwinTransformer2D_Adapter + I3DHead.

    T' = frames/2 time steps of P = (img/4)^2 / 4^i tokens at stage i (width C = embed * 2^i).
    Window attention over N = ws^2 tokens costs P*N*C for q.k and again for attn.v per time step;
    temporal attention over T' steps costs P*T'*T'*C twice. A Linear (n tokens, a -> b) costs n*a*b;
    an adapter (C -> C/4 -> C) 2*C*C/4 per token.
    """
    t, g = frames // 2, img // 4
    total = t * g * g * (3 * 2 * 4 * 4) * embed  # tubelet Conv3d
    for i, depth in enumerate(depths):
        c, side = embed * 2 ** i, g // 2 ** i
        p, ws = side * side, min(window, side)
        for j in range(depth):
            total += t * p * 4 * c * c + t * p * ws * ws * c * 2 + t * p * c * c // 2  # qkv+proj, attn, S_Adapter2
            if j % 2 == 0:  # temporal: the same attention over T' steps, T_Adapter
                total += t * p * 4 * c * c + p * t * t * c * 2 + t * p * c * c // 2
            total += t * p * 8 * c * c + t * p * c * c // 2  # MLP, S_Adapter
        if i < len(depths) - 1:
            total += t * (p // 4) * 4 * c * 2 * c  # patch merging
    return total + embed * 2 ** (len(depths) - 1) * classes


def test_get_flops_counts_the_swin_configs():
    import importlib.util

    spec = importlib.util.spec_from_file_location("get_flops", REPO_ROOT / "tools" / "analysis" / "get_flops.py")
    get_flops = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(get_flops)
    name = "swin2d_adapter_base_k400_32x2x1_12views.py"  # the SSv2 row differs only in its head
    result = get_flops.analyse(load(name))
    per_view = swin_macs(32, 224, 128, (2, 2, 18, 2), 7, 400)
    assert round(result["gflops_per_view"] * 1e9) == per_view
    assert result["num_views"] == 12 and result["gflops_total"] == pytest.approx(12 * per_view / 1e9)
    assert (round(result["params"] / 1e6, 2), round(result["tunable_params"] / 1e6, 2)) == (95.93, 9.17)
    tiny = load(ROW_FILES[0])
    tiny.model.backbone.update(img_size=64, window_size=4, embed_dim=32, depths=[3, 2], num_heads=[2, 4])
    tiny.model.cls_head.in_channels = 64
    tiny.test_pipeline = [dict(s, crop_size=64) if "crop_size" in s else s for s in tiny.test_pipeline]
    tiny.test_dataloader.dataset.pipeline = tiny.test_pipeline
    result = get_flops.analyse(tiny)
    assert round(result["gflops_per_view"] * 1e9) == swin_macs(32, 64, 32, (3, 2), 4, 400)
