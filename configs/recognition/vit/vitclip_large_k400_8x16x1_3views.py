# AIM ViT-L/14 on Kinetics-400.
# Sampling: 8 frames, 1 every 16 (dense), 1 clip; test: 3 clips x 1 centre crop.
# README row: K400, ViT-L/14, 8x3x1 views, 2902 GFLOPs, 341M params, 38M tunable, acc@1/5 86.8/97.2
# File name: vitclip_{backbone}_{dataset}_{sampling}_{test views}views.py, see README.md.
_base_ = [
    '../../_base_/models/vitclip_large.py',
    '../../_base_/datasets/k400.py',
    '../../_base_/schedules/adamw_cosine_30e.py',
    '../../_base_/default_runtime.py',
]

# Frame sampling of this row; it replaces the SampleFrames step of the dataset's pipelines.
sampling = dict(clip_len=8, frame_interval=16)

model = dict(
    backbone=dict(
        num_frames=sampling['clip_len'], drop_path_rate=0.2, adapter_scale=0.5, num_tadapter=1),
    cls_head=dict(num_classes=400))

train_pipeline = [
    dict(step, **sampling) if step.type == 'SampleFrames' else step
    for step in _base_.train_pipeline
]
val_pipeline = [
    dict(step, **sampling) if step.type == 'SampleFrames' else step
    for step in _base_.val_pipeline
]
test_pipeline = [
    dict(step, **sampling) if step.type == 'SampleFrames' else step
    for step in _base_.test_pipeline
]
# ViT-L/14 on Kinetics-400 adds colour jitter after the flip (before FormatShape).
train_pipeline.insert(-2, dict(type='ColorJitter'))
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))

# Mixed precision: bf16 autocast (the original used apex fp16), on the GPU or the CPU;
# tools/train.py --amp none trains in full precision.
# ViT-L/14 recipe: every backbone parameter, adapters included, learns at 0.1 x the base lr
# (3e-5); the head learns at 3e-4. mmengine applies only the LONGEST custom key found in a
# parameter's name, so the no-decay keys of the schedule are repeated here, longer than
# 'backbone' and combined with lr_mult=0.1 (with 'backbone' alone, ln_post would be decayed).
optim_wrapper = dict(
    type='MixedPrecisionOptimWrapper',
    dtype='bfloat16',
    paramwise_cfg=dict(
        custom_keys={
            'backbone': dict(lr_mult=0.1),
            'backbone.class_embedding': dict(lr_mult=0.1, decay_mult=0.0),
            'backbone.positional_embedding': dict(lr_mult=0.1, decay_mult=0.0),
            'backbone.ln_pre': dict(lr_mult=0.1, decay_mult=0.0),
            'backbone.ln_post': dict(lr_mult=0.1, decay_mult=0.0),
            'ln_1.weight': dict(lr_mult=0.1, decay_mult=0.0),
            'ln_1.bias': dict(lr_mult=0.1, decay_mult=0.0),
            'ln_2.weight': dict(lr_mult=0.1, decay_mult=0.0),
            'ln_2.bias': dict(lr_mult=0.1, decay_mult=0.0),
        }))
