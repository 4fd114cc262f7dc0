# AIM on Swin-B (ImageNet-22k image weights) on Kinetics-400: the original
# swin2d_adapter_patch244_window7_kinetics400_1k.py experiment.
# Sampling: 32 frames, 1 every 2 (dense), 1 clip; test: 4 clips x 3 crops (ThreeCrop 224) = 12 views.
# File name: swin2d_adapter_{backbone}_{dataset}_{sampling}_{test views}views.py, see README.md.
_base_ = [
    '../../_base_/models/swin2d_adapter_base.py',
    '../../_base_/datasets/k400.py',
    '../../_base_/schedules/adamw_cosine_30e.py',
    '../../_base_/default_runtime.py',
]

# Frame sampling of this row; it replaces the SampleFrames step of the dataset's pipelines.
sampling = dict(clip_len=32, frame_interval=2)

model = dict(
    backbone=dict(num_frames=sampling['clip_len'], drop_path_rate=0.2, frozen_stages=-1, t_relative=True),
    cls_head=dict(num_classes=400),
    test_cfg=dict(max_testing_views=4))

train_pipeline = [
    dict(step, **sampling) if step.type == 'SampleFrames' else step
    for step in _base_.train_pipeline
]
val_pipeline = [
    dict(step, **sampling) if step.type == 'SampleFrames' else step
    for step in _base_.val_pipeline
]
# Test: 4 clips, each cut into 3 crops of 224 along the long side of a 224 short side.
test_pipeline = [
    dict(step, **sampling, num_clips=4) if step.type == 'SampleFrames'
    else dict(type='ThreeCrop', crop_size=224) if step.type == 'CenterCrop'
    else step
    for step in _base_.test_pipeline
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))

# The original recipe: AdamW lr 1e-3, weight decay 0.05, 30 epochs, cosine with 2.5 warm-up epochs,
# 8 clips per GPU on 8 GPUs with gradient accumulation over 2 steps (total batch 128), fp16
# (here bf16 autocast; tools/train.py --amp none trains in full precision).
# Its custom keys are kept as written. mmengine (as mmcv did) applies only the LONGEST key found
# in a parameter's name, so every adapter ('backbone....S_Adapter...') learns at 0.1 x lr = 1e-4
# with weight decay, and the head at 1e-3; the 'norm' and bias-table keys only reach frozen weights.
optim_wrapper = dict(
    type='MixedPrecisionOptimWrapper',
    dtype='bfloat16',
    accumulative_counts=2,
    optimizer=dict(type='AdamW', lr=1e-3, betas=(0.9, 0.999), weight_decay=0.05),
    paramwise_cfg=dict(
        _delete_=True,
        custom_keys={
            'absolute_pos_embed': dict(decay_mult=0.0),
            'relative_position_bias_table': dict(decay_mult=0.0),
            'norm': dict(decay_mult=0.0),
            'backbone': dict(lr_mult=0.1),
        }))
