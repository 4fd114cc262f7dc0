# AIM ViT-L/14 on Diving-48.
# Sampling: 32 frames, uniform (one per segment), 1 clip; test: 1 clip x 1 centre crop.
# README row: Diving-48, ViT-L/14, 32x1x1 views, 3736 GFLOPs, 341M params, 38M tunable, acc@1 90.6
# File name: vitclip_{backbone}_{dataset}_{sampling}_{test views}views.py, see README.md.
_base_ = [
    '../../_base_/models/vitclip_large.py',
    '../../_base_/datasets/diving48.py',
    '../../_base_/schedules/adamw_cosine_50e.py',
    '../../_base_/default_runtime.py',
]

# Frame sampling of this row; it replaces the UniformSample step of the dataset's pipelines.
sampling = dict(clip_len=32)

model = dict(
    backbone=dict(
        num_frames=sampling['clip_len'], drop_path_rate=0.2, adapter_scale=0.5, num_tadapter=1),
    cls_head=dict(num_classes=48))

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
