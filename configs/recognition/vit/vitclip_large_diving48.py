# The experiment of the original AIM file of this name (configs/recognition/vit/vitclip_large_diving48.py
# of taoyang1122/adapt-image-models): ViT-L/14 on Diving-48, 32 frames uniform (one per segment),
# test 1 clip x 1 centre crop, 50 epochs, every tunable parameter at the base lr 3e-4 (no backbone
# lr_mult). The README row vitclip_large_diving48_u32_1view.py trains the backbone at 0.1 x lr.
# tests/configs/test_original_names.py checks this file against the original's settings.
_base_ = [
    '../../_base_/models/vitclip_large.py',
    '../../_base_/datasets/diving48.py',
    '../../_base_/schedules/adamw_cosine_50e.py',
    '../../_base_/default_runtime.py',
]

# Frame sampling of the original file; it replaces the UniformSample step of the dataset's pipelines.
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
optim_wrapper = dict(type='MixedPrecisionOptimWrapper', dtype='bfloat16')
