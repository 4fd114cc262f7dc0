# AIM on the ImageNet-21k ViT-B/16, Kinetics-400 (the original's vit_imagenet_k400.py).
# Sampling: 8 frames, 1 every 16 (dense), 1 clip; test: 3 clips x 1 centre crop.
# 96.76 M parameters, 10.97 M tunable.
_base_ = [
    '../../_base_/models/vit_imagenet_base.py',
    '../../_base_/datasets/k400.py',
    '../../_base_/schedules/adamw_cosine_30e.py',
    '../../_base_/default_runtime.py',
]

sampling = dict(clip_len=8, frame_interval=16)

model = dict(
    backbone=dict(num_frames=sampling['clip_len'], drop_path_rate=0.2, adapter_scale=0.5, num_tadapter=1),
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

# The original's no-decay keys name CLIP's norms; on this backbone they match ln_post only (the
# frozen norm1/norm2 do not train), so the recipe is the same. Mixed precision: bf16 autocast.
optim_wrapper = dict(type='MixedPrecisionOptimWrapper', dtype='bfloat16')
