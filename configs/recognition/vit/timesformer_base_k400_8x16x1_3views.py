# TimeSformer (CLIP ViT-B/16, divided space-time attention, fully fine-tuned), Kinetics-400: the
# paper's space-time baseline (the original's timesformer_k400.py).
# Sampling: 8 frames, 1 every 16 (dense), 1 clip; test: 3 clips x 1 centre crop.
# 121.57 M parameters, all tunable (tuning='full'; see configs/_base_/models/timesformer_base.py for
# what the original train.py's name filter would have frozen).
# The original trained on data/kinetics400/train_video_list_10.txt; point ann_file there to do so.
_base_ = [
    '../../_base_/models/timesformer_base.py',
    '../../_base_/datasets/k400.py',
    '../../_base_/schedules/adamw_cosine_30e.py',
    '../../_base_/default_runtime.py',
]

sampling = dict(clip_len=8, frame_interval=16)

model = dict(
    backbone=dict(num_frames=sampling['clip_len'], drop_path_rate=0.1),
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

# The original's weight decay for this baseline: 5e-6 (not 0.05).
optim_wrapper = dict(type='MixedPrecisionOptimWrapper', dtype='bfloat16', optimizer=dict(weight_decay=5e-6))
