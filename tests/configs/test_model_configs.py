"""The configs of the other backbones: ViT_ImageNet and TimeSformer (original file names and our
rows), the paper's ablation (configs/recognition/ablation, counts as in its README), and AIM on
timm's ViTs (configs/recognition/timm). Each builds its model and pipelines; one ViT_ImageNet
config trains one epoch on tiny CPU videos."""

import copy
import re
from pathlib import Path

import pytest
import torch
from mmengine.config import Config

from mmaction.engine.runner.config_check import check_config_types
from mmaction.registry import MODELS, TRANSFORMS
from tests.engine.engine_testkit import make_video_set, output, python_tool, run_tool

REPO_ROOT = Path(__file__).resolve().parents[2]
VIT_DIR = REPO_ROOT / "configs" / "recognition" / "vit"
ABLATION_DIR = REPO_ROOT / "configs" / "recognition" / "ablation"
TIMM_DIR = REPO_ROOT / "configs" / "recognition" / "timm"

# original AIM file name -> our row
ORIGINAL_NAMES = {
    "vit_imagenet_k400.py": "vit_imagenet_base_k400_8x16x1_3views.py",
    "vit_imagenet_ssv2.py": "vit_imagenet_base_sthv2_u8_3views.py",
    "timesformer_k400.py": "timesformer_base_k400_8x16x1_3views.py",
}
OTHER_BACKBONE_FILES = sorted(list(ORIGINAL_NAMES) + list(ORIGINAL_NAMES.values()))
ABLATION_FILES = sorted(p.name for p in ABLATION_DIR.glob("*.py"))
TIMM_FILES = sorted(p.name for p in TIMM_DIR.glob("*.py"))
ALL = [VIT_DIR / n for n in OTHER_BACKBONE_FILES] + [ABLATION_DIR / n for n in ABLATION_FILES] + [
    TIMM_DIR / n for n in TIMM_FILES]


def build_on_meta(cfg: Config) -> torch.nn.Module:
    with torch.device("meta"):
        return MODELS.build(copy.deepcopy(cfg.model))


def millions(model):
    total = sum(p.numel() for p in model.parameters())
    tunable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return round(total / 1e6, 2), round(tunable / 1e6, 2)


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.name)
def test_config_builds_model_and_pipelines(path):
    cfg = Config.fromfile(str(path))
    check_config_types(cfg)
    model = build_on_meta(cfg)
    assert model.cls_head.fc_cls.in_features == cfg.model.cls_head.in_channels
    for pipeline in (cfg.train_pipeline, cfg.val_pipeline, cfg.test_pipeline):
        for step in pipeline:
            assert callable(TRANSFORMS.build(copy.deepcopy(step))), step


@pytest.mark.parametrize("alias", sorted(ORIGINAL_NAMES))
def test_original_name_is_its_row(alias):
    assert Config.fromfile(str(VIT_DIR / alias)).to_dict() == Config.fromfile(str(VIT_DIR / ORIGINAL_NAMES[alias])).to_dict()


def test_original_experiments():
    k400 = Config.fromfile(str(VIT_DIR / "vit_imagenet_k400.py"))
    bb = k400.model.backbone
    assert (bb.type, bb.drop_path_rate, bb.adapter_scale, bb.num_tadapter, bb.num_frames) == ("ViT_ImageNet", 0.2, 0.5, 1, 8)
    assert k400.model.data_preprocessor.mean == [123.675, 116.28, 103.53]  # ImageNet mean/std
    assert millions(build_on_meta(k400)) == (96.76, 10.97)
    ssv2 = Config.fromfile(str(VIT_DIR / "vit_imagenet_ssv2.py"))
    assert (ssv2.model.backbone.num_tadapter, ssv2.model.backbone.adapter_scale, ssv2.model.cls_head.num_classes) == (2, 1.0, 174)
    assert ssv2.train_cfg.max_epochs == 50
    ts = Config.fromfile(str(VIT_DIR / "timesformer_k400.py"))
    assert ts.model.backbone.type == "TimeSformer" and ts.model.backbone.tuning == "full"
    assert ts.optim_wrapper.optimizer.weight_decay == 5e-6
    assert millions(build_on_meta(ts)) == (121.57, 121.57)


def test_ablation_counts_match_its_readme():
    """Every ablation config is a row of configs/recognition/ablation/README.md with its counts."""
    text = (ABLATION_DIR / "README.md").read_text()
    rows = re.findall(r"\| \[(\S+\.py)\]\(\S+\) \|[^|]*\| ([\d.]+) M \| ([\d.]+) M \|", text)
    assert sorted(name for name, _, _ in rows) == ABLATION_FILES
    for name, total, tunable in rows:
        got = millions(build_on_meta(Config.fromfile(str(ABLATION_DIR / name))))
        assert got == (float(total), float(tunable)), name


def test_timm_configs_take_mean_std_from_the_weights():
    cfg = Config.fromfile(str(TIMM_DIR / "aim_siglip_base_k400_8x16x1_3views.py"))
    assert "mean" not in cfg.model.data_preprocessor
    model = build_on_meta(cfg)
    assert model.data_preprocessor.normalizes and model.data_preprocessor.mean.shape == (3, 1, 1, 1)
    assert model.backbone.default_mean_std() == ([127.5] * 3, [127.5] * 3)  # SigLIP: 0.5 x 255


def _tiny_pipeline(pipeline):
    out = []
    for step in copy.deepcopy(pipeline):
        if step["type"] == "SampleFrames":
            step.update(clip_len=4, frame_interval=1)
        elif step["type"] == "Resize":
            step["scale"] = (-1, 32) if step["scale"][0] == -1 else (32, 32)
        elif step["type"] in ("CenterCrop", "ThreeCrop"):
            step["crop_size"] = 32
        out.append(step)
    return out


def test_vit_imagenet_config_trains_one_epoch_on_tiny_videos(tmp_path):
    """configs/recognition/vit/vit_imagenet_k400.py with tiny sizes, through tools/train.py on the CPU."""
    train_list = make_video_set(tmp_path, "train", 4, num_classes=3)
    base = Config.fromfile(str(VIT_DIR / "vit_imagenet_k400.py"))
    pipeline = _tiny_pipeline(base.train_pipeline)
    assert [s["type"] for s in pipeline] == [s["type"] for s in base.train_pipeline]
    cfg = tmp_path / "tiny_vit_imagenet.py"
    cfg.write_text(f"""
_base_ = ['{VIT_DIR / 'vit_imagenet_k400.py'}']
model = dict(
    backbone=dict(img_size=32, patch_size=8, embed_dim=32, depth=1, num_heads=2, num_frames=4),
    cls_head=dict(num_classes=3, in_channels=32))
train_dataloader = dict(batch_size=2, num_workers=0, persistent_workers=False, pin_memory=False,
                        dataset=dict(ann_file='{train_list}', data_prefix=dict(video='{tmp_path}'),
                                     pipeline={pipeline!r}))
train_cfg = dict(max_epochs=1, val_interval=5)
val_dataloader = None
val_cfg = None
val_evaluator = None
optim_wrapper = dict(type='SafeOptimWrapper', _delete_=True,
                     constructor='TunableParamsOptimWrapperConstructor',
                     optimizer=dict(type='AdamW', lr=3e-4, betas=(0.9, 0.999), weight_decay=0.05))
default_hooks = dict(logger=dict(interval=1))
allow_random_backbone = True  # tiny random image model on purpose
""")
    work = tmp_path / "work"
    proc = run_tool(python_tool("train.py", str(cfg), "--work-dir", str(work), "--amp", "none"), timeout=600)
    assert proc.returncode == 0, output(proc)[-4000:]
    ckpts = list(work.rglob("epoch_1.pth"))
    assert ckpts, output(proc)[-2000:]
    state = torch.load(str(ckpts[0]), map_location="cpu", weights_only=True)["state_dict"]
    assert "backbone.blocks.0.MLP_Adapter.D_fc2.weight" in state
    assert torch.count_nonzero(state["backbone.blocks.0.MLP_Adapter.D_fc2.weight"]) > 0  # the adapters trained
