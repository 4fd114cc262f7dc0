# AIM on the ImageNet-21k ViT-B/16, Something-Something v2 (the original's vit_imagenet_ssv2.py).
# Sampling: 8 frames, uniform (one per segment), 1 clip; test: 1 clip x 3 crops.
# Two temporal adapters per block (num_tadapter=2), adapter_scale 1, label smoothing 0.1.
_base_ = [
    '../../_base_/models/vit_imagenet_base.py',
    '../../_base_/datasets/sthv2.py',
    '../../_base_/schedules/adamw_cosine_50e.py',
    '../../_base_/default_runtime.py',
]

sampling = dict(clip_len=8)

model = dict(
    backbone=dict(num_frames=sampling['clip_len'], drop_path_rate=0.2, adapter_scale=1.0, num_tadapter=2),
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

optim_wrapper = dict(type='MixedPrecisionOptimWrapper', dtype='bfloat16')
