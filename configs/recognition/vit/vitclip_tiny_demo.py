# AIM in miniature, on a CPU, with nothing to download (see docs/get_started.md):
#
#   bash tools/dist_train.sh configs/recognition/vit/vitclip_tiny_demo.py 1 --validate --test-last
#
# The demo's own parts live in projects/tiny_demo (imported below). On first use, with progress
# lines and the time left:
#   1. `MovingShapesDataset` (the datasets below) writes a synthetic video dataset to data/demo
#      (projects/tiny_demo/moving_shapes.py): a coloured shape glides left, right, up or down
#      over a noisy background; the direction is the class, so only the ORDER of the frames
#      tells the classes apart;
#   2. `PretrainImageModelHook` (custom_hooks below) pre-trains a tiny CLIP-architecture ViT
#      (width 64, 2 blocks, 6 px patches, 48 px input) on single frames (which shape, in which
#      quadrant?) and saves it as the CLIP-layout state dict that model.backbone.pretrained names;
# then, as in the paper, that image model is frozen and AIM's spatial, temporal and joint
# adapters, the temporal embedding, ln_post and the head are trained on the videos.
# Both steps are skipped when their files exist and were made with the same settings.
# A config for other data that inherits this one replaces the datasets with
# `dataset=dict(_delete_=True, type='VideoDataset', ...)`, drops the hook (`custom_hooks = []`)
# and sets `model.backbone.pretrained`: nothing is generated then.
# vitclip_tiny_demo_frame_avg.py is the same frozen image model with a linear head on the
# frame-averaged features: it cannot tell a motion from its reverse.
#
# Set AIM_DEMO_DATA=/some/folder to put the generated files elsewhere.
_base_ = [
    '../../_base_/default_runtime.py',
    '../../_base_/schedules/adamw_cosine_30e.py',
]

custom_imports = dict(imports=['projects.tiny_demo'], allow_failed_imports=False)

data_root = '{{$AIM_DEMO_DATA:data/demo}}'
pretrained_image_model = data_root + '/clip_tiny_pretrained.pth'
# projects.tiny_demo.moving_shapes.DemoSpec: 48 px, 16-frame videos (2000 train, 200 val, 200 test)
# and 8000 + 1600 single-frame images for the image task; every split gets the same spec.
demo_spec = dict(size=48, frames=16, fps=8, num_train=2000, num_val=200, num_test=200, num_images=8000, seed=0)

# projects.tiny_demo.image_pretrain.pretrain on images_{train,val}.npz: 8 epochs of 250 steps,
# run by tools/train.py's Runner right before it loads model.backbone.pretrained.
custom_hooks = [
    dict(type='RNGStateHook'),  # as in _base_/default_runtime.py (a list replaces the base's list)
    dict(type='PretrainImageModelHook', data_root=data_root, out=pretrained_image_model,
         epochs=8, batch_size=32, lr=1e-3, seed=0),
]

model = dict(
    type='Recognizer3D',
    backbone=dict(
        type='ViT_CLIP',
        input_resolution=48,
        num_frames=8,
        patch_size=6,
        width=64,
        layers=2,
        heads=2,
        drop_path_rate=0.0,
        # Two temporal adapters and adapter_scale 1, as AIM's Something-Something v2 configs
        # (the dataset whose classes, like these, need temporal order).
        num_tadapter=2,
        adapter_scale=1.0,
        adapter_ratio=0.25,
        pretrained=pretrained_image_model,
        tuning='adapter'),
    cls_head=dict(type='I3DHead', num_classes=4, in_channels=64, dropout_ratio=0.2),
    data_preprocessor=dict(
        type='ActionDataPreprocessor',
        mean=[122.769, 116.74, 104.04],
        std=[68.493, 66.63, 70.321],
        format_shape='NCTHW'),
    test_cfg=dict(average_clips='prob'))

# 8 frames, 1 every 2 (15 of the 16 frames). The videos are made at the model's 48 px, so no
# resizing or cropping; and no horizontal flip: it would turn "moving left" into "moving right".
sampling = dict(clip_len=8, frame_interval=2)
train_pipeline = [
    dict(type='PyAVInit'),
    dict(type='SampleFrames', num_clips=1, **sampling),
    dict(type='PyAVDecode'),
    dict(type='Resize', scale=(48, 48), keep_ratio=False),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs'),
]
val_pipeline = [
    dict(type='PyAVInit'),
    dict(type='SampleFrames', num_clips=1, test_mode=True, **sampling),
    dict(type='PyAVDecode'),
    dict(type='Resize', scale=(48, 48), keep_ratio=False),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs'),
]
# Test: 1 clip x 1 crop (the whole video: "8x1x1").
test_pipeline = val_pipeline

train_dataloader = dict(
    batch_size=16,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type='MovingShapesDataset',
        data_root=data_root,
        split='train',
        spec=demo_spec,
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=25,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='MovingShapesDataset',
        data_root=data_root,
        split='val',
        spec=demo_spec,
        pipeline=val_pipeline,
        test_mode=True))
test_dataloader = dict(
    batch_size=25,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='MovingShapesDataset',
        data_root=data_root,
        split='test',
        spec=demo_spec,
        pipeline=test_pipeline,
        test_mode=True))
# With 4 classes top-5 is always 1; top-2 says whether the right class is among the best two.
val_evaluator = dict(type='AccMetric', metric_list=('top_k_accuracy', 'mean_class_accuracy'), topk=(1, 2, 5))
test_evaluator = val_evaluator

# The AIM recipe (AdamW, no decay on embeddings/LayerNorms, linear warm-up then cosine),
# shortened to 5 epochs of 125 iterations; a higher lr suits the small batch and model.
max_epochs = 5
warmup_epochs = 0.5
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_begin=1, val_interval=1)
optim_wrapper = dict(optimizer=dict(lr=3e-3))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.1, end_factor=1.0, by_epoch=True, begin=0, end=warmup_epochs,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs, eta_min=0, by_epoch=True, begin=0, end=max_epochs,
         convert_to_iter_based=True),
]
auto_scale_lr = dict(enable=False, base_batch_size=16)

default_hooks = dict(
    logger=dict(interval=25),
    checkpoint=dict(interval=1, max_keep_ckpts=1))
randomness = dict(seed=0)
work_dir = './work_dirs/vitclip_tiny_demo'
