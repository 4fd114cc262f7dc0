# TimeSformer on a CLIP ViT-B/16 (divided space-time attention: a temporal attention t_attn and norm
# t_norm per block, initialised from attn / ln_1, and a linear T_Adapter): the paper's fully
# fine-tuned space-time baseline. 400 classes, 8 frames: 121.57 M parameters, all tunable.
#
# tuning='full' trains everything, as the paper's baseline. Note: the original train.py froze
# parameters by a name filter ('Adapter', 'temporal_embedding', 'ln_post'), which would have left
# only T_Adapter, temporal_embedding, ln_post and the head training; tuning='adapter' reproduces that.
#
# `pretrained=None` builds random weights; --cfg-options model.backbone.pretrained=openaiclip (or a
# CLIP file) starts from CLIP.
model = dict(
    type='Recognizer3D',
    backbone=dict(
        type='TimeSformer',
        input_resolution=224,
        num_frames=8,
        patch_size=16,
        width=768,
        layers=12,
        heads=12,
        drop_path_rate=0.1,
        pretrained=None,
        tuning='full'),
    cls_head=dict(
        type='I3DHead',
        num_classes=400,
        in_channels=768,
        dropout_ratio=0.5),
    # CLIP's RGB mean/std on the 0-255 scale.
    data_preprocessor=dict(
        type='ActionDataPreprocessor',
        mean=[122.769, 116.74, 104.04],
        std=[68.493, 66.63, 70.321],
        format_shape='NCTHW'),
    test_cfg=dict(average_clips='prob', max_testing_views=None))
