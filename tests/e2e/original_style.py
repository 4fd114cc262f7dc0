"""Original-style (MMAction2 0.x / original AIM repository) config files, written from a table of
the original experiments' settings (not copied text), and the tiny overrides that make them run
on a CPU in seconds.

The original ``configs/recognition/vit/vitclip_*.py`` files all have one layout: ``_base_`` =
a 0.x model file + a 0.x runtime file, ``model`` overrides, ``img_norm_cfg``, three pipelines
ending in ``Normalize``/``FormatShape``/``Collect``/``ToTensor``, ``data=dict(videos_per_gpu=...)``,
``evaluation``, ``optimizer`` with ``paramwise_cfg``, a cosine ``lr_config`` with linear warm-up,
``total_epochs``, ``checkpoint_config``, ``fp16 = None`` and an ``optimizer_config`` of
``DistOptimizerHook`` with ``use_fp16=True`` (apex-era mixed precision).
"""

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Dict, Optional

MEAN = (122.769, 116.74, 104.04)
STD = (68.493, 66.63, 70.321)


@dataclass(frozen=True)
class Original:
    """The settings of one original config file."""

    num_classes: int
    frames: int
    interval: int
    test_clips: int = 1
    uniform: bool = False
    three_crop: bool = True
    large: bool = False
    adapter_scale: float = 0.5
    num_tadapter: int = 1
    smoothing: Optional[float] = None
    imgaug: bool = False
    flip: float = 0.5
    epochs: int = 30


#: The 8 original CLIP configs (configs/recognition/vit/ of the original repository).
ORIGINALS: Dict[str, Original] = {
    "vitclip_base_k400": Original(400, 32, 4, test_clips=3, three_crop=False),
    "vitclip_base_k700": Original(700, 8, 16, test_clips=3),
    "vitclip_base_sthv2": Original(174, 8, 2, uniform=True, adapter_scale=1, num_tadapter=2, smoothing=0.1,
                                   imgaug=True, flip=0, epochs=50),
    "vitclip_base_diving48": Original(48, 32, 16, uniform=True, epochs=50),
    "vitclip_large_k400": Original(400, 32, 4, test_clips=3, three_crop=False, large=True),
    "vitclip_large_k700": Original(700, 32, 4, test_clips=3, large=True),
    "vitclip_large_sthv2": Original(174, 8, 2, uniform=True, large=True, adapter_scale=1, smoothing=0.1,
                                    imgaug=True, flip=0, epochs=50),
    "vitclip_large_diving48": Original(48, 32, 8, uniform=True, three_crop=False, large=True, epochs=50),
}

_BASE_MODEL = """
model = dict(
    type='Recognizer3D',
    backbone=dict(type='ViT_CLIP', input_resolution=224, patch_size=16, num_frames=32, width=768, layers=12,
                  heads=12, drop_path_rate=0.1),
    cls_head=dict(type='I3DHead', in_channels=768, num_classes=400, spatial_type='avg', dropout_ratio=0.5),
    test_cfg=dict(average_clips='prob'))
"""
_BASE_RUNTIME = """
checkpoint_config = dict(interval=1)
log_config = dict(interval=20, hooks=[dict(type='TextLoggerHook')])
dist_params = dict(backend='nccl')
log_level = 'INFO'
load_from = None
resume_from = None
workflow = [('train', 1)]
"""


def write_bases(folder: Path) -> None:
    """Writes the 0.x ``_base_`` files the original configs name, under ``folder/_base_``."""
    (folder / "_base_" / "models").mkdir(parents=True, exist_ok=True)
    (folder / "_base_" / "models" / "vitclip_base.py").write_text(_BASE_MODEL)
    (folder / "_base_" / "default_runtime.py").write_text(_BASE_RUNTIME)


def _sample(o: Original, clips: int, test_mode: bool) -> str:
    uniform = ", frame_uniform=True" if o.uniform else ""
    test = ", test_mode=True" if test_mode else ""
    return f"dict(type='SampleFrames', clip_len={o.frames}, frame_interval={o.interval}, num_clips={clips}{uniform}{test})"


def original_text(o: Original, fp16: bool = True) -> str:
    """The text of an original-style config with the settings ``o`` (``fp16=False``: the
    ``optimizer_config`` without ``use_fp16``)."""
    large = "patch_size=14, width=1024, layers=24, heads=16, " if o.large else ""
    tadapter = f", num_tadapter={o.num_tadapter}" if o.num_tadapter != 1 else ""
    train_cfg = (f",\n    train_cfg=dict(blending=dict(type='LabelSmoothing', num_classes={o.num_classes}, "
                 f"smoothing={o.smoothing}))") if o.smoothing is not None else ""
    imgaug = "    dict(type='Imgaug', transforms=[dict(type='RandAugment', n=4, m=7)]),\n" if o.imgaug else ""
    erasing = "    dict(type='RandomErasing', probability=0.25),\n" if o.imgaug else ""
    crop = "dict(type='ThreeCrop', crop_size=224)" if o.three_crop else "dict(type='CenterCrop', crop_size=224)"
    test_scale = "(-1, 224)" if o.three_crop else "(-1, 256)"
    tail = ("    dict(type='Normalize', **img_norm_cfg),\n    dict(type='FormatShape', input_format='NCTHW'),\n"
            "    dict(type='Collect', keys=['imgs', 'label'], meta_keys=[]),\n")
    return f"""_base_ = ['../_base_/models/vitclip_base.py', '../_base_/default_runtime.py']
model = dict(
    backbone=dict({large}drop_path_rate=0.2, adapter_scale={o.adapter_scale}{tadapter}, num_frames={o.frames}),
    cls_head=dict(num_classes={o.num_classes}),
    test_cfg=dict(max_testing_views=4){train_cfg})
dataset_type = 'VideoDataset'
img_norm_cfg = dict(mean={list(MEAN)}, std={list(STD)}, to_bgr=False)
train_pipeline = [
    dict(type='DecordInit'),
    {_sample(o, 1, False)},
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='RandomResizedCrop'),
    dict(type='Resize', scale=(224, 224), keep_ratio=False),
    dict(type='Flip', flip_ratio={o.flip}),
{imgaug}    dict(type='Normalize', **img_norm_cfg),
{erasing}    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='Collect', keys=['imgs', 'label'], meta_keys=[]),
    dict(type='ToTensor', keys=['imgs', 'label'])]
val_pipeline = [
    dict(type='DecordInit'),
    {_sample(o, 1, True)},
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='CenterCrop', crop_size=224),
    dict(type='Flip', flip_ratio=0),
{tail}    dict(type='ToTensor', keys=['imgs'])]
test_pipeline = [
    dict(type='DecordInit'),
    {_sample(o, o.test_clips, True)},
    dict(type='DecordDecode'),
    dict(type='Resize', scale={test_scale}),
    {crop},
    dict(type='Flip', flip_ratio=0),
{tail}    dict(type='ToTensor', keys=['imgs'])]
data = dict(
    videos_per_gpu=8, workers_per_gpu=2,
    val_dataloader=dict(videos_per_gpu=1, workers_per_gpu=1),
    test_dataloader=dict(videos_per_gpu=1, workers_per_gpu=1),
    train=dict(type=dataset_type, ann_file='data/train.txt', data_prefix='data/train', pipeline=train_pipeline),
    val=dict(type=dataset_type, ann_file='data/val.txt', data_prefix='data/val', pipeline=val_pipeline),
    test=dict(type=dataset_type, ann_file='data/val.txt', data_prefix='data/val', pipeline=test_pipeline))
evaluation = dict(interval=5, metrics=['top_k_accuracy', 'mean_class_accuracy'])
optimizer = dict(type='AdamW', lr=3e-4, betas=(0.9, 0.999), weight_decay=0.05,
                 paramwise_cfg=dict(custom_keys={{'class_embedding': dict(decay_mult=0.),
                                                 'positional_embedding': dict(decay_mult=0.),
                                                 'ln_1': dict(decay_mult=0.), 'ln_2': dict(decay_mult=0.),
                                                 'ln_pre': dict(decay_mult=0.), 'ln_post': dict(decay_mult=0.)}}))
lr_config = dict(policy='CosineAnnealing', min_lr=0, warmup='linear', warmup_by_epoch=True, warmup_iters=2.5)
total_epochs = {o.epochs}
checkpoint_config = dict(interval=10)
work_dir = './work_dirs/original'
find_unused_parameters = False
fp16 = None
optimizer_config = dict(type="DistOptimizerHook", update_interval=1, grad_clip=None, coalesce=True,
                        bucket_size_mb=-1, use_fp16={fp16})
"""


def write_original(folder: Path, name: str) -> Path:
    """Writes ``folder/configs/<name>.py`` (and the ``_base_`` files); returns its path."""
    write_bases(folder)
    path = folder / "configs" / f"{name}.py"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(original_text(ORIGINALS[name]))
    return path


def tiny_options(train_list: Path, val_list: Path, root: Path, frames: int = 2,
                 size: int = 32) -> Dict[str, Any]:
    """``--cfg-options`` that shrink an original-style config to a 32 px, 1-layer, 2-frame model
    on the given lists (every pipeline step keeps its kind and order)."""
    opts: Dict[str, Any] = {
        "model.backbone.input_resolution": size, "model.backbone.patch_size": 8, "model.backbone.width": 32,
        "model.backbone.layers": 1, "model.backbone.heads": 2, "model.backbone.num_frames": frames,
        "model.cls_head.in_channels": 32, "data.videos_per_gpu": 2, "data.workers_per_gpu": 0,
    }
    for split, ann in (("train", train_list), ("val", val_list), ("test", val_list)):
        opts[f"data.{split}.ann_file"] = str(ann)
        opts[f"data.{split}.data_prefix"] = str(root)
        opts[f"data.{split}.pipeline.1.clip_len"] = frames
        opts[f"data.{split}.pipeline.1.frame_interval"] = 1
        opts[f"data.{split}.pipeline.3.scale"] = (-1, size + 4)
        if split == "train":
            opts[f"data.{split}.pipeline.5.scale"] = (size, size)
        else:
            opts[f"data.{split}.pipeline.4.crop_size"] = size
    return opts


def tiny_original_text(o: Original, train_list: Path, val_list: Path, root: Path, fp16: bool = True) -> str:
    """:func:`original_text` with the tiny overrides written into the file itself (for the
    command-line tools): 32 px, a 1-layer width-32 model, the given lists, 2 videos per batch."""
    text = original_text(o, fp16=fp16)
    for old, new in (
        ("backbone=dict(", "backbone=dict(input_resolution=32, patch_size=8, width=32, layers=1, heads=2, "),
        ("cls_head=dict(", "cls_head=dict(in_channels=32, "),
        ("(-1, 256)", "(-1, 36)"), ("(224, 224)", "(32, 32)"), ("(-1, 224)", "(-1, 32)"),
        ("crop_size=224", "crop_size=32"), ("videos_per_gpu=8, workers_per_gpu=2", "videos_per_gpu=2, workers_per_gpu=0"),
        ("workers_per_gpu=1", "workers_per_gpu=0"), ("checkpoint_config = dict(interval=10)", "checkpoint_config = dict(interval=1)"),
        ("ann_file='data/train.txt', data_prefix='data/train'", f"ann_file='{train_list}', data_prefix='{root}'"),
        ("ann_file='data/val.txt', data_prefix='data/val'", f"ann_file='{val_list}', data_prefix='{root}'"),
    ):
        assert old in text, old
        text = text.replace(old, new)
    return text
