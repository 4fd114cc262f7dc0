# The experiment of the original AIM file of this name (configs/recognition/vit/vitclip_base_k700.py
# of taoyang1122/adapt-image-models): ViT-B/16 on Kinetics-700 with 8 frames 1 every 16 (dense),
# test 3 clips x 3 crops, 30 epochs. The README's K700 row (32x3x3, acc@1 76.9) is another
# experiment: vitclip_base_k700_32x4x1_9views.py. tests/configs/test_original_names.py checks
# this file against the original's settings.
_base_ = [
    '../../_base_/models/vitclip_base.py',
    '../../_base_/datasets/k700.py',
    '../../_base_/schedules/adamw_cosine_30e.py',
    '../../_base_/default_runtime.py',
]

# Frame sampling of the original file; it replaces the SampleFrames step of the dataset's pipelines.
sampling = dict(clip_len=8, frame_interval=16)

model = dict(
    backbone=dict(
        num_frames=sampling['clip_len'], drop_path_rate=0.2, adapter_scale=0.5, num_tadapter=1),
    cls_head=dict(num_classes=700))

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
