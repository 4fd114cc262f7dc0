# AIM ViT-B/16 on Something-Something v2.
# Sampling: 8 frames, uniform (one per segment), 1 clip; test: 1 clip x 3 crops.
# Paper row: SSv2, ViT-B/16, 8x1x3 views, acc@1 66.4 (paper; no README table)
# File name: vitclip_{backbone}_{dataset}_{sampling}_{test views}views.py, see README.md.
_base_ = [
    '../../_base_/models/vitclip_base.py',
    '../../_base_/datasets/sthv2.py',
    '../../_base_/schedules/adamw_cosine_50e.py',
    '../../_base_/default_runtime.py',
]

# Frame sampling of this row; it replaces the UniformSample step of the dataset's pipelines.
sampling = dict(clip_len=8)

model = dict(
    backbone=dict(
        num_frames=sampling['clip_len'], drop_path_rate=0.2, adapter_scale=1.0, num_tadapter=2),
    cls_head=dict(num_classes=174, label_smooth_eps=0.1))

train_pipeline = [
    dict(step, **sampling) if step.type == 'UniformSample' else step
    for step in _base_.train_pipeline
]
val_pipeline = [
    dict(step, **sampling) if step.type == 'UniformSample' else step
    for step in _base_.val_pipeline
]
test_pipeline = [
    dict(step, **sampling) if step.type == 'UniformSample' else step
    for step in _base_.test_pipeline
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))

# Mixed precision: bf16 autocast (the original used apex fp16), on the GPU or the CPU;
# tools/train.py --amp none trains in full precision.
optim_wrapper = dict(type='MixedPrecisionOptimWrapper', dtype='bfloat16')
