"""Every config in configs/recognition/vit/ loads, builds and says what its file name says.

File names follow ``vitclip_{base|large}_{dataset}_{T}x{interval}x{clips}_{views}views.py`` (dense
sampling) or ``vitclip_{base|large}_{dataset}_u{T}_{views}views.py`` (uniform sampling); the
original AIM names hold the original files' experiments (two of them are one-line aliases of a row; see
configs/recognition/vit/README.md and tests/configs/test_original_names.py).
"""

import copy
import re
from pathlib import Path
from typing import Dict, List, Optional

import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.optim import build_optim_wrapper

from mmaction.engine.runner.config_check import check_config_types
from mmaction.registry import DATASETS, MODELS, TRANSFORMS

REPO_ROOT = Path(__file__).resolve().parents[2]
CONFIG_DIR = REPO_ROOT / "configs" / "recognition" / "vit"

NAME_RE = re.compile(
    r"^vitclip_(?P<backbone>base|large)_(?P<dataset>k400|k700|sthv2|diving48)_"
    r"(?:(?P<clip_len>\d+)x(?P<interval>\d+)x(?P<clips>\d+)|u(?P<uniform>\d+))_(?P<views>\d+)views?\.py$"
)
# Original AIM names whose experiment is a README row: one-line aliases of that row. The other six
# original names hold experiments of their own (tests/configs/test_original_names.py).
ALIASES = {
    "vitclip_base_k400.py": "vitclip_base_k400_32x4x1_3views.py",
    "vitclip_base_sthv2.py": "vitclip_base_sthv2_u8_3views.py",
}
ORIGINAL_NAMES = {f"vitclip_{b}_{d}.py" for b in ("base", "large") for d in ("k400", "k700", "sthv2", "diving48")}
BACKBONES = {
    "base": dict(width=768, layers=12, heads=12, patch_size=16),
    "large": dict(width=1024, layers=24, heads=16, patch_size=14),
}
NUM_CLASSES = {"k400": 400, "k700": 700, "sthv2": 174, "diving48": 48}
EPOCHS = {"k400": 30, "k700": 30, "sthv2": 50, "diving48": 50}
CROPS = {"ThreeCrop": 3, "TenCrop": 10}
SAMPLERS = ("SampleFrames", "UniformSample")
# README (total M, tunable M) per backbone, rounded; rows whose class count moves the rounding
# (K700: 341.77 M for L/14) are left out of this check, as the README copies 341 there.
README_PARAMS = {"base": (97, 11), "large": (341, 38)}

CONFIG_FILES = sorted(p.name for p in CONFIG_DIR.glob("vitclip_*.py") if "demo" not in p.name)  # other backbones: test_model_configs.py
ROW_FILES = [name for name in CONFIG_FILES if NAME_RE.match(name)]
_CFG_CACHE: Dict[str, Config] = {}


def load(name: str) -> Config:
    """Config.fromfile, parsed once per file per session; callers get a copy."""
    if name not in _CFG_CACHE:
        _CFG_CACHE[name] = Config.fromfile(str(CONFIG_DIR / name))
    return copy.deepcopy(_CFG_CACHE[name])


def sampler(pipeline: List[dict]) -> dict:
    steps = [step for step in pipeline if step["type"] in SAMPLERS]
    assert len(steps) == 1, f"expected one frame sampler, got {[s['type'] for s in pipeline]}"
    return steps[0]


def crops(pipeline: List[dict]) -> int:
    return max([CROPS.get(step["type"], 1) for step in pipeline])


def step_types(pipeline: List[dict]) -> List[str]:
    return [step["type"] for step in pipeline]


def params_in_millions(model: torch.nn.Module):
    total = sum(p.numel() for p in model.parameters())
    tunable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return total / 1e6, tunable / 1e6


def test_config_folder_is_complete():
    assert len(ROW_FILES) == 14, ROW_FILES
    readme = (CONFIG_DIR / "README.md").read_text()
    for name in CONFIG_FILES:
        assert NAME_RE.match(name) or name in ORIGINAL_NAMES, f"{name}: neither a row config nor an original name"
        assert name in readme, f"configs/recognition/vit/README.md does not mention {name}"
    for alias, target in ALIASES.items():
        assert alias in CONFIG_FILES and target in ROW_FILES, (alias, target)


@pytest.mark.parametrize("alias", sorted(ALIASES))
def test_alias_is_its_row(alias):
    text = (CONFIG_DIR / alias).read_text()
    assert f"_base_ = ['./{ALIASES[alias]}']" in text
    assert load(alias).to_dict() == load(ALIASES[alias]).to_dict()


def test_dumped_config_reloads_the_same(tmp_path):
    """The Runner dumps the merged config into work_dir; it must reload to the same values."""
    cfg = load("vitclip_large_k400_16x8x1_3views.py")
    cfg.dump(str(tmp_path / "dumped.py"))
    reloaded = Config.fromfile(str(tmp_path / "dumped.py"))
    assert reloaded.to_dict() == cfg.to_dict()
    assert "ColorJitter" in step_types(reloaded.train_dataloader.dataset.pipeline)


@pytest.mark.parametrize("name", ROW_FILES)
def test_sampling_and_views_match_file_name(name):
    parts = NAME_RE.match(name).groupdict()
    cfg = load(name)
    clip_len = int(parts["clip_len"] or parts["uniform"])
    pipelines = {
        "train": cfg.train_dataloader.dataset.pipeline,
        "val": cfg.val_dataloader.dataset.pipeline,
        "test": cfg.test_dataloader.dataset.pipeline,
    }
    assert pipelines["train"] == cfg.train_pipeline and pipelines["test"] == cfg.test_pipeline
    assert cfg.model.backbone.num_frames == clip_len
    for split, pipeline in pipelines.items():
        step = sampler(pipeline)
        assert step["clip_len"] == clip_len, (split, step)
        assert bool(step.get("test_mode", False)) == (split != "train"), (split, step)
        if parts["uniform"]:
            assert step["type"] == "UniformSample", (split, step)
        else:
            assert step["type"] == "SampleFrames", (split, step)
            assert step["frame_interval"] == int(parts["interval"]), (split, step)
    assert sampler(pipelines["train"]).get("num_clips", 1) == int(parts["clips"] or 1)
    assert sampler(pipelines["val"]).get("num_clips", 1) * crops(pipelines["val"]) == 1
    test_views = sampler(pipelines["test"]).get("num_clips", 1) * crops(pipelines["test"])
    assert test_views == int(parts["views"]), f"{name}: test pipeline gives {test_views} views"


@pytest.mark.parametrize("name", ROW_FILES)
def test_recipe(name):
    parts = NAME_RE.match(name).groupdict()
    dataset, backbone = parts["dataset"], parts["backbone"]
    cfg = load(name)
    assert cfg.default_scope == "mmaction"
    bb, head = cfg.model.backbone, cfg.model.cls_head
    for key, value in BACKBONES[backbone].items():
        assert bb[key] == value, (key, bb[key])
    assert bb.tuning == "adapter" and bb.pretrained is None and bb.drop_path_rate == 0.2
    assert head.in_channels == bb.width and head.num_classes == NUM_CLASSES[dataset]
    assert cfg.model.test_cfg.average_clips == "prob"
    assert cfg.model.data_preprocessor.mean == [122.769, 116.74, 104.04]
    assert cfg.model.data_preprocessor.std == [68.493, 66.63, 70.321]
    train_types = step_types(cfg.train_pipeline)
    if dataset == "sthv2":
        assert (bb.num_tadapter, bb.adapter_scale, head.label_smooth_eps) == (2, 1.0, 0.1)
        assert "Flip" not in train_types and {"RandAugment", "RandomErasing"} <= set(train_types)
    else:
        assert (bb.num_tadapter, bb.adapter_scale, head.label_smooth_eps) == (1, 0.5, 0.0)
        assert next(s for s in cfg.train_pipeline if s["type"] == "Flip")["flip_ratio"] == 0.5
    assert ("ColorJitter" in train_types) == (backbone == "large" and dataset == "k400")
    assert train_types[-2:] == ["FormatShape", "PackActionInputs"]
    assert cfg.train_cfg.max_epochs == EPOCHS[dataset] and cfg.train_cfg.val_interval == 5
    for loader in (cfg.train_dataloader, cfg.val_dataloader, cfg.test_dataloader):
        assert loader.num_workers == 8 and loader.persistent_workers and loader.pin_memory
    assert cfg.train_dataloader.batch_size == 8 and cfg.train_dataloader.sampler.shuffle
    assert not cfg.val_dataloader.sampler.shuffle and not cfg.test_dataloader.sampler.shuffle
    assert cfg.val_dataloader.dataset.test_mode and cfg.test_dataloader.dataset.test_mode
    assert cfg.auto_scale_lr == dict(enable=False, base_batch_size=64)
    assert (cfg.optim_wrapper.type, cfg.optim_wrapper.dtype) == ("MixedPrecisionOptimWrapper", "bfloat16")
    optimizer = cfg.optim_wrapper.optimizer
    assert (optimizer.type, optimizer.lr, optimizer.weight_decay) == ("AdamW", 3e-4, 0.05)
    custom_keys = cfg.optim_wrapper.paramwise_cfg.custom_keys
    assert (custom_keys.get("backbone", {}).get("lr_mult", 1.0) == 0.1) == (backbone == "large")


@pytest.mark.parametrize("name", ROW_FILES)
def test_pipelines_build(name):
    cfg = load(name)
    check_config_types(cfg)  # every type= name anywhere in the config is registered
    for pipeline in (cfg.train_pipeline, cfg.val_pipeline, cfg.test_pipeline):
        for step in pipeline:
            transform = TRANSFORMS.build(copy.deepcopy(step))
            assert callable(transform), step


@pytest.mark.parametrize("name", ROW_FILES)
def test_full_size_model_on_meta_device(name):
    """Full-size model without memory or init cost: layout, temporal embedding and sizes."""
    parts = NAME_RE.match(name).groupdict()
    cfg = load(name)
    with torch.device("meta"):
        model = MODELS.build(cfg.model)
    width, layers = cfg.model.backbone.width, cfg.model.backbone.layers
    state = model.state_dict()
    assert state["backbone.temporal_embedding"].shape == (1, cfg.model.backbone.num_frames, width)
    assert state["cls_head.fc_cls.weight"].shape == (NUM_CLASSES[parts["dataset"]], width)
    last = f"backbone.transformer.resblocks.{layers - 1}"
    for adapter in ("S_Adapter", "T_Adapter", "MLP_Adapter"):
        assert f"{last}.{adapter}.D_fc2.weight" in state
    assert (f"{last}.T_Adapter_in.D_fc1.weight" in state) == (cfg.model.backbone.num_tadapter == 2)
    assert f"backbone.transformer.resblocks.{layers}.ln_1.weight" not in state
    total, tunable = params_in_millions(model)
    if parts["dataset"] in ("k400", "diving48"):
        assert (round(total), round(tunable)) == README_PARAMS[parts["backbone"]], (total, tunable)


def test_spec_parameter_counts():
    """AIM.md section 3: K400, 8 frames: B/16 96.76 M / 10.97 M, L/14 341.44 M / 38.26 M; 32 frames B/16 96.78 / 10.99."""
    expected = {
        "vitclip_base_k400_8x16x1_3views.py": (96.76, 10.97),
        "vitclip_base_k400_32x4x1_3views.py": (96.78, 10.99),
        "vitclip_large_k400_8x16x1_3views.py": (341.44, 38.26),
    }
    for name, (total, tunable) in expected.items():
        with torch.device("meta"):
            model = MODELS.build(load(name).model)
        got = params_in_millions(model)
        assert (round(got[0], 2), round(got[1], 2)) == (total, tunable), (name, got)


def test_base16_builds_for_real_and_matches_the_released_layout():
    """The one full-size build on the CPU: real tensors, adapters start as the identity."""
    cfg = load("vitclip_base_k400_8x16x1_3views.py")
    model = MODELS.build(cfg.model)  # weights are initialised at build time
    state = model.state_dict()
    assert len([k for k in state if k.endswith(".S_Adapter.D_fc1.weight")]) == 12
    for key, value in state.items():
        if ".D_fc2." in key:
            assert not value.any(), f"{key} should start at zero"
        elif ("Adapter" in key or key.startswith("cls_head")) and key.endswith("weight"):
            assert torch.isfinite(value).all() and value.any(), key
    trainable = {name for name, p in model.named_parameters() if p.requires_grad}
    assert "backbone.ln_post.weight" in trainable and "backbone.temporal_embedding" in trainable
    assert "cls_head.fc_cls.weight" in trainable
    assert not any(".attn." in n or ".mlp." in n or "conv1" in n for n in trainable)


# ---------------------------------------------------------------------------------------------
# Optimizer parameter groups: the recipe's lr and weight decay land on the right parameters.


def tiny(cfg: Config, **backbone) -> Config:
    """Shrinks the model of a config (all else kept): 1-2 blocks, width 64."""
    cfg.model.backbone.update(dict(width=64, layers=2, heads=2), **backbone)
    cfg.model.cls_head.in_channels = cfg.model.backbone.width
    return cfg


def group_of(optim_wrapper, model, name: str) -> dict:
    param = dict(model.named_parameters())[name]
    return next(g for g in optim_wrapper.optimizer.param_groups if any(p is param for p in g["params"]))


@pytest.mark.parametrize(
    "name,backbone_lr",
    [("vitclip_base_k400_8x16x1_3views.py", 3e-4), ("vitclip_large_sthv2_u32_3views.py", 3e-5)],
)
def test_optimizer_groups(name, backbone_lr):
    cfg = load(name)
    cfg = tiny(cfg, input_resolution=2 * cfg.model.backbone.patch_size, tuning="full")
    model = MODELS.build(cfg.model)
    optim_wrapper = build_optim_wrapper(model, copy.deepcopy(cfg.optim_wrapper))

    def lr_wd(param_name):
        group = group_of(optim_wrapper, model, param_name)
        return pytest.approx(group["lr"]), pytest.approx(group["weight_decay"])

    blocks = "backbone.transformer.resblocks"
    assert lr_wd("cls_head.fc_cls.weight") == (3e-4, 0.05)
    for adapter in (f"{blocks}.0.S_Adapter.D_fc1.weight", f"{blocks}.1.MLP_Adapter.D_fc2.bias", "backbone.temporal_embedding"):
        assert lr_wd(adapter) == (backbone_lr, 0.05), adapter
    no_decay = ["backbone.ln_post.weight", "backbone.ln_pre.bias", "backbone.class_embedding",
                "backbone.positional_embedding", f"{blocks}.0.ln_1.weight", f"{blocks}.1.ln_2.bias"]
    for param_name in no_decay:
        assert lr_wd(param_name) == (backbone_lr, 0.0), param_name
    assert lr_wd(f"{blocks}.0.attn.in_proj_weight") == (backbone_lr, 0.05)


# ---------------------------------------------------------------------------------------------
# End to end on a real (written) video: dataset + pipelines from the config, shrunken model.


def write_video(path: Path, num_frames: int = 48, size=(64, 48)) -> None:
    import av
    import numpy as np

    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=25)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        for i in range(num_frames):
            img = np.zeros((size[1], size[0], 3), dtype=np.uint8)
            img[..., 0] = (i * 5) % 256
            img[: size[1] // 2, (i % size[0]):, 1] = 200
            for packet in stream.encode(av.VideoFrame.from_ndarray(img, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


@pytest.fixture(scope="module")
def video_list(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("videos")
    write_video(root / "a.mp4")
    (root / "list.txt").write_text("a.mp4 3\n")
    return root


def dataset_from(cfg: Config, loader: str, root: Path, pipeline: Optional[list] = None):
    ds_cfg = copy.deepcopy(cfg[loader].dataset)
    ds_cfg.update(ann_file=str(root / "list.txt"), data_prefix=dict(video=str(root)))
    if pipeline is not None:
        ds_cfg.pipeline = pipeline
    return DATASETS.build(ds_cfg)


@pytest.mark.parametrize(
    "name",
    ["vitclip_base_k400_8x16x1_3views.py", "vitclip_base_k700_32x4x1_9views.py", "vitclip_base_sthv2_u8_3views.py",
     "vitclip_large_diving48_u32_1view.py"],
)
def test_config_runs_on_a_real_video(name, video_list):
    parts = NAME_RE.match(name).groupdict()
    cfg = tiny(load(name), layers=1)
    T = cfg.model.backbone.num_frames
    model = MODELS.build(cfg.model)

    test_item = dataset_from(cfg, "test_dataloader", video_list)[0]
    views = int(parts["views"])
    assert test_item["inputs"].dtype == torch.uint8
    assert tuple(test_item["inputs"].shape) == (views, 3, T, 224, 224)
    model.eval()
    with torch.no_grad():
        (pred,) = model.test_step(pseudo_collate([test_item]))
    assert pred.pred_score.shape == (NUM_CLASSES[parts["dataset"]],)
    assert float(pred.pred_score.sum()) == pytest.approx(1.0, abs=1e-4)  # mean of softmaxed views

    train_item = dataset_from(cfg, "train_dataloader", video_list)[0]
    assert tuple(train_item["inputs"].shape) == (1, 3, T, 224, 224)
    model.train()
    data = model.data_preprocessor(pseudo_collate([train_item, copy.deepcopy(train_item)]), True)
    losses = model(**data, mode="loss")
    assert torch.isfinite(losses["loss_cls"]) and losses["loss_cls"] > 0
