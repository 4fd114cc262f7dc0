# AIM ViT-L/14 on Kinetics-400.
# Sampling: 16 frames, 1 every 8 (dense), 1 clip; test: 3 clips x 1 centre crop.
# README row: K400, ViT-L/14, 16x3x1 views, 5604 GFLOPs, 341M params, 38M tunable, acc@1/5 87.3/97.6
# File name: vitclip_{backbone}_{dataset}_{sampling}_{test views}views.py, see README.md.
# Same recipe as vitclip_large_k400_8x16x1_3views.py; only the frame sampling differs.
_base_ = ['./vitclip_large_k400_8x16x1_3views.py']

# Frame sampling of this row; it replaces the SampleFrames step of the parent's pipelines.
sampling = dict(clip_len=16, frame_interval=8)

model = dict(backbone=dict(num_frames=sampling['clip_len']))

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
