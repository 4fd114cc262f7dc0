# AIM on Swin-B (ImageNet-22k image weights) on Something-Something v2: the original
# swin2d_adapter_patch244_window7_sthv2_1k.py experiment.
# Sampling: 32 frames, uniform (one per segment; the original's SampleFrames frame_uniform=True),
# 1 clip; test: 1 clip x 3 crops (ThreeCrop 224) = 3 views.
# File name: swin2d_adapter_{backbone}_{dataset}_{sampling}_{test views}views.py, see README.md.
_base_ = [
    '../../_base_/models/swin2d_adapter_base.py',
    '../../_base_/datasets/sthv2.py',
    '../../_base_/schedules/adamw_cosine_50e.py',
    '../../_base_/default_runtime.py',
]

# Frame sampling of this row; it replaces the UniformSample step of the dataset's pipelines.
sampling = dict(clip_len=32)

model = dict(
    backbone=dict(num_frames=sampling['clip_len'], drop_path_rate=0.4, frozen_stages=-1, t_relative=True),
    cls_head=dict(num_classes=174, label_smooth_eps=0.1),
    test_cfg=dict(max_testing_views=2))

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

# The original recipe: 60 epochs, cosine with 2.5 warm-up epochs, AdamW lr 3e-4, weight decay
# 0.05, 8 clips per GPU on 8 GPUs with gradient accumulation over 4 steps (total batch 256),
# label smoothing 0.1, fp16 (here bf16 autocast; tools/train.py --amp none: full precision).
# Custom keys as written by the original; only the LONGEST key found in a name applies, so the
# adapters learn at 0.1 x lr = 3e-5 with weight decay and the head at 3e-4.
max_epochs = 60
train_cfg = dict(max_epochs=max_epochs)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, end_factor=1.0, by_epoch=True, begin=0, end=2.5,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs, eta_min=0, by_epoch=True, begin=0, end=max_epochs,
         convert_to_iter_based=True),
]
optim_wrapper = dict(
    type='MixedPrecisionOptimWrapper',
    dtype='bfloat16',
    accumulative_counts=4,
    optimizer=dict(type='AdamW', lr=3e-4, betas=(0.9, 0.999), weight_decay=0.05),
    paramwise_cfg=dict(
        _delete_=True,
        custom_keys={
            'absolute_pos_embed': dict(decay_mult=0.0),
            'relative_position_bias_table': dict(decay_mult=0.0),
            'norm': dict(decay_mult=0.0),
            'backbone': dict(lr_mult=0.1),
        }))
