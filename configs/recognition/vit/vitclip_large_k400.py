# The experiment of the original AIM file of this name (configs/recognition/vit/vitclip_large_k400.py
# of taoyang1122/adapt-image-models): ViT-L/14 on Kinetics-400, 32 frames 1 every 4 (dense), test
# 3 clips x 1 centre crop, 30 epochs, backbone lr_mult 0.1, no colour jitter. The README row of the
# same sampling, vitclip_large_k400_32x4x1_3views.py, adds ColorJitter and keeps the LayerNorms out of
# weight decay. tests/configs/test_original_names.py checks this file against the original's settings.
_base_ = [
    '../../_base_/models/vitclip_large.py',
    '../../_base_/datasets/k400.py',
    '../../_base_/schedules/adamw_cosine_30e.py',
    '../../_base_/default_runtime.py',
]

# Frame sampling of the original file; it replaces the SampleFrames step of the dataset's pipelines.
sampling = dict(clip_len=32, frame_interval=4)

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
# The original's custom keys: the schedule's no-decay keys plus 'backbone': lr_mult 0.1. mmengine,
# like mmcv, applies only the longest key found in a parameter's name, so 'backbone' (8 letters)
# wins over 'ln_1', 'ln_2', 'ln_pre', 'ln_post': every backbone parameter (adapters, temporal
# embedding, ln_post) learns at 3e-5 WITH weight decay, except the (frozen) class and positional
# embeddings; the head learns at 3e-4.
optim_wrapper = dict(
    type='MixedPrecisionOptimWrapper',
    dtype='bfloat16',
    paramwise_cfg=dict(custom_keys={'backbone': dict(lr_mult=0.1)}))
