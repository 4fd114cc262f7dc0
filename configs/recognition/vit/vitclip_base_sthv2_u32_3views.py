# AIM ViT-B/16 on Something-Something v2.
# Sampling: 32 frames, uniform (one per segment), 1 clip; test: 1 clip x 3 crops.
# Paper row: SSv2, ViT-B/16, 32x1x3 views, acc@1 69.1 (paper; no README table)
# File name: vitclip_{backbone}_{dataset}_{sampling}_{test views}views.py, see README.md.
# Same recipe as vitclip_base_sthv2_u8_3views.py; only the frame sampling differs.
_base_ = ['./vitclip_base_sthv2_u8_3views.py']

# Frame sampling of this row; it replaces the UniformSample step of the parent's pipelines.
sampling = dict(clip_len=32)

model = dict(backbone=dict(num_frames=sampling['clip_len']))

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
