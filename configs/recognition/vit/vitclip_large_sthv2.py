# The experiment of the original AIM file of this name (configs/recognition/vit/vitclip_large_sthv2.py
# of taoyang1122/adapt-image-models): ViT-L/14 on Something-Something v2, 8 frames uniform (one per
# segment), test 1 clip x 3 crops, 50 epochs, ONE temporal adapter (the ViT-B/16 SSv2 file has two),
# adapter_scale 1, label smoothing 0.1, RandAugment (n=4, m=7), RandomErasing 0.25, no flip, backbone
# lr_mult 0.1. The paper's L/14 SSv2 row (32 frames, two temporal adapters) is another experiment:
# vitclip_large_sthv2_u32_3views.py. tests/configs/test_original_names.py checks this file against
# the original's settings.
_base_ = [
    '../../_base_/models/vitclip_large.py',
    '../../_base_/datasets/sthv2.py',
    '../../_base_/schedules/adamw_cosine_50e.py',
    '../../_base_/default_runtime.py',
]

# Frame sampling of the original file; it replaces the UniformSample step of the dataset's pipelines.
sampling = dict(clip_len=8)

model = dict(
    backbone=dict(
        num_frames=sampling['clip_len'], drop_path_rate=0.2, adapter_scale=1.0, num_tadapter=1),
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
# The original's custom keys: the schedule's no-decay keys plus 'backbone': lr_mult 0.1. mmengine,
# like mmcv, applies only the longest key found in a parameter's name, so 'backbone' (8 letters)
# wins over 'ln_1', 'ln_2', 'ln_pre', 'ln_post': every backbone parameter (adapters, temporal
# embedding, ln_post) learns at 3e-5 WITH weight decay, except the (frozen) class and positional
# embeddings; the head learns at 3e-4.
optim_wrapper = dict(
    type='MixedPrecisionOptimWrapper',
    dtype='bfloat16',
    paramwise_cfg=dict(custom_keys={'backbone': dict(lr_mult=0.1)}))
