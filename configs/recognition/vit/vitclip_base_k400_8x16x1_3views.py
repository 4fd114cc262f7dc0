# AIM ViT-B/16 on Kinetics-400.
# Sampling: 8 frames, 1 every 16 (dense), 1 clip; test: 3 clips x 1 centre crop.
# README row: K400, ViT-B/16, 8x3x1 views, 606 GFLOPs, 97M params, 11M tunable, acc@1/5 83.9/96.3
# File name: vitclip_{backbone}_{dataset}_{sampling}_{test views}views.py, see README.md.
_base_ = [
    '../../_base_/models/vitclip_base.py',
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
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))

# Mixed precision: bf16 autocast (the original used apex fp16), on the GPU or the CPU;
# tools/train.py --amp none trains in full precision.
optim_wrapper = dict(type='MixedPrecisionOptimWrapper', dtype='bfloat16')
